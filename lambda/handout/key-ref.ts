/** A key named by tenant and id, as the provisioner's records and the secret name it: no record, no credential. */
import type { ApiKeyRecord } from '../keys/key-record';

export interface KeyRef {
  readonly tenant: string;
  readonly keyId: string;
}

/** The ref of a key record. */
export function refOf(record: ApiKeyRecord): KeyRef {
  return { tenant: record.tenant, keyId: record.id };
}

/** Whether `ref` is one of `provisioned` (the keys a record says the provisioner issued). */
export function isProvisioned(ref: KeyRef, provisioned: readonly KeyRef[]): boolean {
  return provisioned.some((candidate) => keyRefId(candidate) === keyRefId(ref));
}

/** `<tenant>/<keyId>`: equal for two refs to the same key. */
export const keyRefId = (ref: KeyRef) => `${ref.tenant}/${ref.keyId}`;

/** Keys this declaration handed out before that are not the current one, each once. */
export function supersededKeys(current: KeyRef | undefined, candidates: readonly (KeyRef | undefined)[]): KeyRef[] {
  const seen = new Set(current ? [keyRefId(current)] : []);
  const out: KeyRef[] = [];
  for (const candidate of candidates) {
    if (!candidate || seen.has(keyRefId(candidate))) continue;
    seen.add(keyRefId(candidate));
    out.push(candidate);
  }
  return out;
}
