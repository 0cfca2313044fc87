/** The three environments a key is scoped to, and the short tag each carries inside a key. */

export const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The tag written into the key itself, so a leaked key tells its environment at a glance. */
export const ENVIRONMENT_TAGS = { production: 'live', staging: 'test', development: 'dev' } as const satisfies Record<
  Environment,
  string
>;
export type EnvironmentTag = (typeof ENVIRONMENT_TAGS)[Environment];

const ENVIRONMENT_BY_TAG: Record<string, Environment> = {
  live: 'production',
  test: 'staging',
  dev: 'development',
};

export function environmentForTag(tag: string): Environment | undefined {
  return Object.prototype.hasOwnProperty.call(ENVIRONMENT_BY_TAG, tag) ? ENVIRONMENT_BY_TAG[tag] : undefined;
}

export function isEnvironment(value: unknown): value is Environment {
  return typeof value === 'string' && (ENVIRONMENTS as readonly string[]).includes(value);
}
