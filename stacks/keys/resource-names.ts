/**
 * Names derived from a key's tenant and name, or from a rule's name: construct ids and IAM names.
 * Each is unique for what it is derived from, so two declarations never fight over one resource.
 */
import { createHash } from 'node:crypto';

/** Appears in no tenant, key name or rule name, so it can only join or mark, never be part of one. */
const JOIN = '_';
const HASH_MARK = '.';

/** The ApiKey construct's id: `<tenant>_<name>` (a tenant may hold dashes, so `-` would be ambiguous). */
export function apiKeyConstructId(tenant: string, name: string): string {
  return `${tenant}${JOIN}${name}`;
}

/** The role IoT assumes to read a key's secret for a reference rule (IAM: ≤ 64 characters). */
export function iotRuleRoleName(ruleName: string): string {
  return fitted(`keyroll-iot-${ruleName}`, 64);
}

/**
 * The name itself when it fits; otherwise its head, `.`, and 8 hex characters of its SHA-256. No
 * name that fits contains a `.`, so a shortened name never equals one that was not shortened.
 */
function fitted(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, maxLength - hash.length - HASH_MARK.length)}${HASH_MARK}${hash}`;
}
