/** What the provisioner logs about the plan it made: why a key is kept, regenerated, replaced or issued. Ids only, never a key. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { KeyPlan } from './key-plan';
import type { KeySecretValue } from './key-spec';

/** `secretAbsence`: why the secret held no key, when it did not. */
export function logPlan(log: Logger, plan: KeyPlan, secretAbsence: string | undefined, secret: KeySecretValue | undefined): void {
  switch (plan.kind) {
    case 'keep':
      log.info('keeping the key in the secret', { keyId: plan.key.id, changes: Object.keys(plan.changes ?? {}) });
      return;
    case 'regenerate':
      log.warn('the secret no longer opens its key (regenerated outside the provisioner?); regenerating it', { keyId: plan.key.id });
      return;
    case 'replace':
      log.info('replacing the key: a field it cannot change did', { keyId: plan.previous.id, reason: plan.reason });
      return;
    case 'issue':
      if (plan.reason === 'key-revoked') log.warn('the key in the secret was revoked outside the provisioner; issuing a new one', { keyId: secret?.keyId });
      else if (plan.reason === 'key-not-provisioned') {
        log.warn('the secret names a key the provisioner did not issue for this declaration; issuing a new one and leaving that key alone', {
          keyId: secret?.keyId,
          keyTenant: secret?.tenant,
        });
      } else log.info('issuing a key', { reason: plan.reason, ...(secretAbsence ? { secret: secretAbsence } : {}) });
  }
}
