/** The three environments a key is scoped to, the short tag each carries inside a key, and their order. */

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

/** Higher manages lower: production > staging > development. */
const RANK: Record<Environment, number> = { production: 3, staging: 2, development: 1 };

/** The management ladder: a manager of `manager`'s environment may manage keys of `target`'s. */
export function managesEnvironment(manager: Environment, target: Environment): boolean {
  return RANK[target] <= RANK[manager];
}

/** The environments a manager of `manager` reaches, highest first. */
export function environmentsManagedBy(manager: Environment): Environment[] {
  return ENVIRONMENTS.filter((environment) => managesEnvironment(manager, environment));
}
