/** A key's credentials as the API shows them: each one that opens the key now, and its role. */
import type { ApiKeyRecord } from './key-record';

export type CredentialState = 'current' | 'pending' | 'grace';

export interface KeyCredential {
  readonly hash: string;
  /** Display prefix; undefined for a grace credential replaced before keyroll kept it. */
  readonly start: string | undefined;
  readonly state: CredentialState;
  /** Grace credentials only: when it stops opening the key. */
  readonly validUntil?: string;
}

/**
 * The current credential, then the pending one, then those still in grace (the latest to end
 * first). A revoked key has none: revocation ends every credential at once.
 */
export function keyCredentials(record: ApiKeyRecord, nowMs: number): KeyCredential[] {
  if (record.revokedAt) return [];
  const credentials: KeyCredential[] = [{ hash: record.credentialHash, start: record.start, state: 'current' }];
  const pending = record.pendingCredential;
  if (pending) credentials.push({ hash: pending.hash, start: pending.start, state: 'pending' });
  const inGrace = record.graceCredentials
    .filter((grace) => Date.parse(grace.validUntil) > nowMs)
    .sort((a, b) => b.validUntil.localeCompare(a.validUntil));
  for (const grace of inGrace) credentials.push({ hash: grace.hash, start: grace.start, state: 'grace', validUntil: grace.validUntil });
  return credentials;
}
