/**
 * Who may manage which key, as pure checks over the caller's key and the target (or the requested
 * key). Three rules, on top of tenant isolation:
 * - customers: a customer-scoped manager reaches only its own customer's keys;
 * - the environment ladder: production > staging > development; a manager reaches its own
 *   environment and the ones below it;
 * - no escalation: a manager grants only permissions it holds, changes, regenerates or revokes
 *   only keys whose permissions it holds, and never changes its own permissions, rate limit,
 *   enabled flag or expiry.
 * Each throws the KeyrollError a client sees (403 FORBIDDEN or INSUFFICIENT_PERMISSIONS).
 */
import { errors } from '../errors';
import { type Environment, managesEnvironment } from './environments';
import type { UpdateKeyInput } from './key-input';
import type { ApiKeyRecord } from './key-record';
import { firstMissingPermission } from './permissions';

export type Manager = Pick<ApiKeyRecord, 'id' | 'environment' | 'permissions' | 'customerId'>;
type Target = Pick<ApiKeyRecord, 'id' | 'environment' | 'permissions' | 'customerId'>;

/** Whether the manager may see the key at all: lists leave out the others. */
export function isVisibleTo(manager: Manager, target: Pick<ApiKeyRecord, 'environment' | 'customerId'>): boolean {
  return (!manager.customerId || target.customerId === manager.customerId) && managesEnvironment(manager.environment, target.environment);
}

/** Reading a key by id: same customer, and not above the manager's environment. */
export function assertMayRead(manager: Manager, target: Target): void {
  if (manager.customerId && target.customerId !== manager.customerId) throw errors.otherCustomer(`key \`${target.id}\``);
  if (!managesEnvironment(manager.environment, target.environment)) throw errors.keyAboveEnvironment(target.id, target.environment, manager.environment);
}

/** Regenerating or revoking a key: readable, and holding no permission the manager lacks. */
export function assertMayChange(manager: Manager, target: Target): void {
  assertMayRead(manager, target);
  // The key itself may regenerate or revoke itself: that gives it nothing it did not have.
  if (target.id === manager.id) return;
  const exceeding = firstMissingPermission(manager.permissions, target.permissions);
  if (exceeding) throw errors.strongerKey(target.id, exceeding);
}

/** Fields a key may not set on itself: each would lift a limit someone else placed on it. */
const SELF_LOCKED_FIELDS = ['permissions', 'rateLimit', 'enabled', 'expiresAt'] as const;

/** PATCH: changeable, granting nothing the manager lacks, and never lifting its own limits. */
export function assertMayUpdate(manager: Manager, target: Target, input: UpdateKeyInput): void {
  assertMayChange(manager, target);
  if (target.id === manager.id) {
    const locked = SELF_LOCKED_FIELDS.filter((field) => input[field] !== undefined);
    if (locked.length > 0) throw errors.selfChange(locked);
  }
  if (input.permissions) assertMayGrant(manager, input.permissions);
}

/** Creating a key: of an environment the manager reaches, with permissions it holds. */
export function assertMayIssue(manager: Manager, requested: { environment: Environment; permissions: readonly string[] }): void {
  if (!managesEnvironment(manager.environment, requested.environment)) throw errors.otherEnvironment(requested.environment, manager.environment);
  assertMayGrant(manager, requested.permissions);
}

function assertMayGrant(manager: Manager, permissions: readonly string[]): void {
  const missing = firstMissingPermission(manager.permissions, permissions);
  if (missing) throw errors.cannotGrant(missing);
}
