/**
 * KEYROLL_ENVIRONMENT: the environment the key service runs as. Parsed here only, by the service
 * at start-up, by the deploy (the deployed service's setting) and by the CLI, so all three accept
 * and refuse the same values with the same message.
 */
import { ENVIRONMENTS, type Environment, isEnvironment } from '../keys/environments';

export const DEFAULT_SERVICE_ENVIRONMENT: Environment = 'production';

/** Thrown for a setting that cannot be used; `code` is stable. */
export class DeployEnvError extends Error {
  constructor(
    readonly code: 'INVALID_ENVIRONMENT' | 'INVALID_SETTING',
    message: string,
  ) {
    super(message);
    this.name = 'DeployEnvError';
  }
}

/**
 * The environment `env` names, production when unset or empty.
 * @throws DeployEnvError INVALID_ENVIRONMENT for anything but production, staging or development
 */
export function serviceEnvironmentFromEnv(env: NodeJS.ProcessEnv = process.env): Environment {
  const value = env.KEYROLL_ENVIRONMENT || DEFAULT_SERVICE_ENVIRONMENT;
  if (isEnvironment(value)) return value;
  throw new DeployEnvError(
    'INVALID_ENVIRONMENT',
    `KEYROLL_ENVIRONMENT is ${value}: the key service runs as one of ${ENVIRONMENTS.join(', ')}; set one of those, or unset it for ${DEFAULT_SERVICE_ENVIRONMENT}.`,
  );
}
