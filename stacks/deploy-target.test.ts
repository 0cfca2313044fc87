import { deployTargetFromEnv } from './deploy-target';

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
});
