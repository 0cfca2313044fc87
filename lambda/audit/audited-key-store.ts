/**
 * A KeyStore that records each key change written through it as an audit entry of one actor. For
 * callers whose every change has the same actor, such as the provisioner (a deploy): the entry is
 * built from the exact versions the store wrote over and wrote, so nothing is missed or guessed.
 * Every other method passes through unchanged.
 */
import type { ApiKeyRecord } from '../keys/key-record';
import type { KeyStore } from '../store/key-store';
import type { AuditActor } from './audit-log';
import type { AuditRecorder } from './audit-recorder';

export function auditedKeyStore(store: KeyStore, recorder: Pick<AuditRecorder, 'keyChanged'>, actor: AuditActor): KeyStore {
  const audited: Partial<KeyStore> = {
    async insertKey(record: ApiKeyRecord) {
      await store.insertKey(record);
      await recorder.keyChanged({ after: record, actor });
    },
    async saveKeyChanges(previous: ApiKeyRecord, next: ApiKeyRecord) {
      const result = await store.saveKeyChanges(previous, next);
      if (result === 'saved') await recorder.keyChanged({ before: previous, after: next, actor });
      return result;
    },
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property in audited) return audited[property as keyof KeyStore];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
