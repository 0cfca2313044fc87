/** What a keys stack needs from the platform: where specs go, who provisions, where telemetry goes. */

export interface KeyPlatform {
  readonly keysTableName: string;
  readonly provisionerFunctionName: string;
  /** The provisioner's role; each key grants it access to exactly its own secret and rules. */
  readonly provisionerRoleName: string;
  /** Default URL for IoT consumers' HTTP action. */
  readonly telemetryUrl: string;
  readonly region: string;
  readonly accountId: string;
}
