import { serviceConfigFromEnv } from '../serve/service-config';
import { serviceEnvironmentFromEnv } from './service-environment';

describe('serviceEnvironmentFromEnv', () => {
  it('takes one of the three environments, production when unset or empty', () => {
    expect(serviceEnvironmentFromEnv({})).toBe('production');
    expect(serviceEnvironmentFromEnv({ KEYROLL_ENVIRONMENT: '' })).toBe('production');
    expect(serviceEnvironmentFromEnv({ KEYROLL_ENVIRONMENT: 'development' })).toBe('development');
  });

  it('refuses anything else with a stable code, the value and the fix', () => {
    expect(() => serviceEnvironmentFromEnv({ KEYROLL_ENVIRONMENT: 'prod' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ENVIRONMENT',
        message: 'KEYROLL_ENVIRONMENT is prod: the key service runs as one of production, staging, development; set one of those, or unset it for production.',
      }),
    );
  });

  it('is how the service reads it', () => {
    expect(serviceConfigFromEnv({ KEYROLL_ENVIRONMENT: 'staging' }).environment).toBe('staging');
    expect(() => serviceConfigFromEnv({ KEYROLL_ENVIRONMENT: 'Staging' })).toThrow(/^KEYROLL_ENVIRONMENT is Staging: the key service runs as one of production, staging, development; set one of those, or unset it for production\.$/);
  });
});
