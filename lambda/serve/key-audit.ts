/**
 * The management routes' side of the audit log: the calling key as the actor, the request's source
 * IP and User-Agent, and the version of the key a change was applied to (learnt from the change
 * guard, which the key manager runs against exactly that version).
 */
import type { Context } from 'hono';
import { type AuditAction, targetOf } from '../audit/audit-log';
import type { ApiKeyRecord } from '../keys/key-record';
import type { ChangeGuard } from '../manage/key-manager';
import type { ServeEnv } from './context';
import type { ServeDeps } from './deps';
import { requestOrigin } from './request-origin';

/** A guard that also remembers the last version it was run against: the one the change was written over. */
export function rememberingGuard(guard?: ChangeGuard): { readonly guard: ChangeGuard; before(): ApiKeyRecord | undefined } {
  let seen: ApiKeyRecord | undefined;
  return {
    guard: (current) => {
      seen = current;
      guard?.(current);
    },
    before: () => seen,
  };
}

type AuditDeps = Pick<ServeDeps, 'audit' | 'trustedProxyHops'>;

/** Records a change the caller made to a key (none when nothing changed, e.g. revoking a revoked key). Never throws. */
export function auditKeyChange(deps: AuditDeps, c: Context<ServeEnv>, before: ApiKeyRecord | undefined, after: ApiKeyRecord): Promise<void> {
  return deps.audit.keyChanged({ before, after, actor: { type: 'key', keyId: c.get('key').id }, origin: requestOrigin(c, deps.trustedProxyHops) });
}

/** Records an action that is no change of the key record itself (a rotation started through the API). Never throws. */
export function auditKeyAction(deps: AuditDeps, c: Context<ServeEnv>, record: ApiKeyRecord, action: AuditAction, detail: string): Promise<void> {
  return deps.audit.event(
    { tenant: record.tenant, keyId: record.id, action, actor: { type: 'key', keyId: c.get('key').id }, origin: requestOrigin(c, deps.trustedProxyHops), detail },
    targetOf(record),
  );
}
