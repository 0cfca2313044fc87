/**
 * The rotation's entries in the audit log (actor `rotation`): started, cut over, retired, failed.
 * Written after the state they report is saved, and never failing the step or sweep that makes
 * them: the recorder logs a failed write, and a key that cannot be read for its environment and
 * customer is filed as production without a customer (visible only to unscoped production managers).
 */
import { type AuditAction, ROTATION_ACTOR, targetOf } from '../audit/audit-log';
import type { AuditRecorder } from '../audit/audit-recorder';
import type { ApiKeyRecord } from '../keys/key-record';
import type { KeyPort } from './ports';

export interface RotationAuditDeps {
  /** Absent: the rotation records nothing (tests of the steps alone). */
  readonly audit?: Pick<AuditRecorder, 'event'>;
  readonly keys: Pick<KeyPort, 'get'>;
}

export interface RotationEvent {
  readonly tenant: string;
  /** The key the rotation is of; an event before the rotation knew it is not recorded. */
  readonly keyId?: string;
  readonly action: Extract<AuditAction, `rotation.${string}`>;
  /** What happened, for humans; never a credential (the recorder redacts anything that looks like one). */
  readonly detail: string;
  /** The key, when the caller has it at hand (saves a read). */
  readonly key?: ApiKeyRecord;
}

export async function auditRotation(deps: RotationAuditDeps, event: RotationEvent): Promise<void> {
  if (!deps.audit || !event.keyId) return;
  const key = event.key ?? (await deps.keys.get(event.tenant, event.keyId).catch(() => undefined));
  await deps.audit.event(
    { tenant: event.tenant, keyId: event.keyId, action: event.action, actor: ROTATION_ACTOR, detail: event.detail },
    key ? targetOf(key) : { environment: 'production' },
  );
}
