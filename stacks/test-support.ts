/** Helpers for the stacks' unit tests: a synthesizable app and snapshots free of volatile hashes. */
import { App, Testing } from 'cdktf';
import type { DeployTarget } from './deploy-target';
import type { ApiKeyProps } from './keys/api-key-props';
import { KeysStack } from './keys/keys-stack';
import { PlatformStack } from './platform/platform-stack';

export const TEST_TARGET: DeployTarget = {
  local: false,
  region: 'eu-west-1',
  stateDir: '/state',
  serviceEnvironment: 'production',
  localTelemetryUrl: 'https://localhost:8787/v1/telemetry',
};

export function testApp(keys: readonly ApiKeyProps[], target: DeployTarget = TEST_TARGET) {
  const app: App = Testing.app();
  const platform = new PlatformStack(app, 'keyroll-platform', target);
  const keysStack = new KeysStack(app, 'keyroll-keys', { target, platform, keys });
  return { app, platform, keysStack };
}

/** Synthesized JSON with asset hashes and paths masked, so snapshots change only with the shape. */
export function stableSynth(stack: Parameters<typeof Testing.synth>[0]): string {
  return Testing.synth(stack)
    .replace(/assets\/[^"]+/g, 'assets/<masked>')
    .replace(/"source_code_hash": "[^"]+"/g, '"source_code_hash": "<masked>"');
}
