/** Turns `keyroll keys` flags into API request bodies, and the API's field names back into flags. */
import { InvalidArgumentError } from 'commander';

export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** `--rate-limit 6000/60`: requests per window seconds. */
export function parseRateLimit(value: string): { limit: number; windowSeconds: number } {
  const match = /^(\d+)\/(\d+)s?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('must look like <requests>/<seconds>, e.g. 6000/60.');
  return { limit: Number(match[1]), windowSeconds: Number(match[2]) };
}

export function parseWholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number.');
  return Number(value);
}

const FLAG_FOR_FIELD: Record<string, string> = {
  name: '--name',
  environment: '--environment',
  permissions: '--permissions',
  rateLimit: '--rate-limit',
  expiresAt: '--expires-at',
  tags: '--tags',
  customerId: '--customer-id',
  graceSeconds: '--grace-seconds',
  limit: '--limit',
};

/** The service names fields as it sees them (`body.rateLimit.limit`); the user typed flags. */
export function inFlagTerms(message: string): string {
  return message.replace(/`(?:body\.|query\.)?([A-Za-z]+)((?:\.[A-Za-z0-9]+)*)`/g, (whole, field: string, rest: string) =>
    FLAG_FOR_FIELD[field] ? `\`${FLAG_FOR_FIELD[field]}\`${rest ? ` (${field}${rest})` : ''}` : whole,
  );
}
