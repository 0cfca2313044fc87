/** Jest globalSetup: starts one local AWS emulator for the whole test run and points the AWS SDK at it. */
import { useLocalAwsDefaults } from '../../lambda/deploy-env/local-endpoint';
import { type LocalAws, startLocalAws } from '../../lambda/local-aws';

/** Where the running emulator is kept for global-teardown.ts (both run in jest's parent process). */
export const LOCAL_AWS_GLOBAL = '__keyrollLocalAws';

export type WithLocalAws = typeof globalThis & { [LOCAL_AWS_GLOBAL]?: LocalAws };

export default async function globalSetup(): Promise<void> {
  const localAws = await startLocalAws({ quiet: true });
  (globalThis as WithLocalAws)[LOCAL_AWS_GLOBAL] = localAws;
  // Always ours: tests must never reach a real AWS account. Test workers inherit the environment.
  useLocalAwsDefaults(localAws.endpoint);
  // Tests assert on behaviour, not on the service's info logs.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  // We run Node 20 on purpose (see README); the SDK's reminder about Node 22 is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
