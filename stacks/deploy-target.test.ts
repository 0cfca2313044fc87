import { serviceConfigFromEnv } from '../lambda/serve/service-config';
import { deployTargetFromEnv } from './deploy-target';

/** The message `fn` throws with. */
function thrownBy(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected it to throw');
}

describe('deployTargetFromEnv', () => {
  it('treats only a loopback AWS_ENDPOINT_URL as the emulator', () => {
    for (const endpoint of ['http://127.0.0.1:4566', 'http://localhost:4566', 'http://[::1]:4566']) {
      expect(deployTargetFromEnv({ AWS_ENDPOINT_URL: endpoint }).local).toBe(true);
    }
    // A proxy or VPC endpoint is still AWS: tables keep deletion protection, secrets their recovery window.
    for (const endpoint of ['https://proxy.corp.example:8443', 'https://vpce-0abc.secretsmanager.eu-west-1.vpce.amazonaws.com', 'not a url']) {
      expect(deployTargetFromEnv({ AWS_ENDPOINT_URL: endpoint }).local).toBe(false);
    }
    expect(deployTargetFromEnv({}).local).toBe(false);
  });

  it('takes KEYROLL_ENVIRONMENT only as one of the three environments', () => {
    expect(deployTargetFromEnv({}).serviceEnvironment).toBe('production');
    expect(deployTargetFromEnv({ KEYROLL_ENVIRONMENT: 'staging' }).serviceEnvironment).toBe('staging');
    expect(() => deployTargetFromEnv({ KEYROLL_ENVIRONMENT: 'prod' })).toThrow(
      /KEYROLL_ENVIRONMENT is prod: the key service runs as one of production, staging, development/,
    );
  });

  it('reads KEYROLL_ENVIRONMENT exactly as the deployed service will, refusing what it would refuse', () => {
    for (const value of ['prod', 'Staging', ' staging']) {
      const env = { KEYROLL_ENVIRONMENT: value };
      expect(() => deployTargetFromEnv(env)).toThrow(thrownBy(() => serviceConfigFromEnv(env)));
    }
  });

  it('reserves 100 concurrent executions for the key service unless KEYROLL_SERVICE_RESERVED_CONCURRENCY says otherwise', () => {
    expect(deployTargetFromEnv({}).serviceReservedConcurrency).toBe(100);
    expect(deployTargetFromEnv({ KEYROLL_SERVICE_RESERVED_CONCURRENCY: '400' }).serviceReservedConcurrency).toBe(400);
    expect(deployTargetFromEnv({ KEYROLL_SERVICE_RESERVED_CONCURRENCY: 'none' }).serviceReservedConcurrency).toBe('none');
    // 0 would throttle every request; the others are not counts.
    for (const value of ['0', '-5', '1.5', 'lots']) {
      expect(() => deployTargetFromEnv({ KEYROLL_SERVICE_RESERVED_CONCURRENCY: value })).toThrow(
        new RegExp(`KEYROLL_SERVICE_RESERVED_CONCURRENCY is ${value.replace('.', '\\.')}: give a whole number of at least 1 .*"none" for no reservation, or unset it \\(100\\)`),
      );
    }
  });
});
