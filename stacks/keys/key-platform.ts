/** What a keys stack needs from the platform: where specs go, who provisions, where telemetry goes. */

export interface KeyPlatform {
  readonly keysTableName: string;
  readonly provisionerFunctionName: string;
  /** keyroll-rotation, which Secrets Manager invokes for keys that declare `rotation`. */
  readonly rotationFunctionName: string;
  readonly rotationFunctionArn: string;
  /** Default URL for IoT consumers' HTTP action. */
  readonly telemetryUrl: string;
  readonly region: string;
  readonly accountId: string;
}
