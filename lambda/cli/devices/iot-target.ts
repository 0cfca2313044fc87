/**
 * Where simulated devices publish: the emulator (AWS_ENDPOINT_URL when loopback, else the one a
 * running `keyroll start` started), or AWS, whose iot-data endpoint is per account
 * (DescribeEndpoint, `iot:Data-ATS`). Only the emulator records rule deliveries for us to read.
 */
import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { resolveAwsTarget } from '../aws-target';
import { CliError } from '../cli-error';

export interface IotTarget {
  /** The control plane: rules and destinations. */
  readonly iot: IoTClient;
  /** iot-data, for Publish. */
  readonly data: IoTDataPlaneClient;
  /** The emulator's endpoint, whose rule deliveries can be read; absent on AWS. */
  readonly emulatorEndpoint?: string;
  /** For people: `local AWS at http://127.0.0.1:4566 (AWS_ENDPOINT_URL)`, `AWS IoT Core (us-east-1)`. */
  readonly description: string;
  /** The command that deploys the keys file to this target, for hints. */
  readonly deployCommand: string;
  destroy(): void;
}

const NO_TARGET_FIX =
  'For local AWS, run `npm start` (which this command then finds) or set AWS_ENDPOINT_URL to a running `npx keyroll local-aws` (e.g. http://127.0.0.1:4566). For AWS, set AWS_REGION and credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).';

/** @throws CliError LOCAL_AWS_UNREACHABLE, NO_AWS_ENDPOINT, IOT_ENDPOINT_UNKNOWN */
export async function resolveIotTarget(env: NodeJS.ProcessEnv = process.env): Promise<IotTarget> {
  // The emulator, or an endpoint that speaks AWS (it serves iot-data too, but records no deliveries for us).
  const aws = await resolveAwsTarget(env);
  if (aws.endpoint) {
    return target(new IoTClient({ endpoint: aws.endpoint }), new IoTDataPlaneClient({ endpoint: aws.endpoint }), {
      ...(aws.local ? { emulatorEndpoint: aws.endpoint } : {}),
      description: aws.description,
      deployCommand: aws.deployCommand,
    });
  }
  const iot = new IoTClient({ maxAttempts: 3 });
  let region: string;
  try {
    region = await iot.config.region();
  } catch {
    iot.destroy();
    throw new CliError('NO_AWS_ENDPOINT', `No AWS to publish to: AWS_ENDPOINT_URL is not set, no \`keyroll start\` is running here, and no AWS region is configured. ${NO_TARGET_FIX}`);
  }
  let address: string | undefined;
  try {
    ({ endpointAddress: address } = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })));
  } catch (error) {
    iot.destroy();
    const name = (error as Error).name;
    const credentials = name === 'CredentialsProviderError' || /credential/i.test((error as Error).message);
    throw new CliError(
      credentials ? 'NO_AWS_ENDPOINT' : 'IOT_ENDPOINT_UNKNOWN',
      credentials
        ? `No AWS credentials to look up the account's IoT data endpoint in ${region}. ${NO_TARGET_FIX}`
        : `Cannot look up the account's IoT data endpoint in ${region} (iot:DescribeEndpoint, endpointType iot:Data-ATS): ${name}: ${(error as Error).message}. Check that your credentials allow iot:DescribeEndpoint.`,
    );
  }
  if (!address) {
    iot.destroy();
    throw new CliError('IOT_ENDPOINT_UNKNOWN', `iot:DescribeEndpoint returned no iot:Data-ATS address in ${region}. Check the account's IoT Core settings, then rerun.`);
  }
  return target(iot, new IoTDataPlaneClient({ endpoint: `https://${address}`, maxAttempts: 3 }), {
    description: `AWS IoT Core in ${region} (${address})`,
    deployCommand: 'npm run deploy',
  });
}

function target(iot: IoTClient, data: IoTDataPlaneClient, rest: Omit<IotTarget, 'iot' | 'data' | 'destroy'>): IotTarget {
  return {
    iot,
    data,
    ...rest,
    destroy: () => {
      iot.destroy();
      data.destroy();
    },
  };
}
