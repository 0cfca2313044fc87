/**
 * Which credential pointers (`SECRET#<hash>`, the index from a credential to its key) a change of a
 * key record writes: one for every credential the record newly accepts, and an expiry (DynamoDB's
 * TTL) for every one it stops accepting for good. Pure, so the rules are testable without a table.
 *
 * A credential that only changes role keeps its pointer as it is (a pending credential promoted to
 * current must not collide with the pointer it already has), and a pointer is never overwritten
 * whole, so the per-credential `lastUsedAt` on it survives every change.
 */
import type { ApiKeyRecord } from '../keys/key-record';

/**
 * Pointers of credentials a key no longer accepts linger 30 days past their grace, then TTL removes
 * them: while one lingers, presenting its credential is recognised as a retired credential of its
 * key (refused with 401 all the same) and raises the retired-credential alert.
 */
export const POINTER_LINGER_SECONDS = 30 * 24 * 3600;

export type PointerWrite =
  /** A credential new to the key: its pointer must not exist yet. */
  | { readonly kind: 'create'; readonly credentialHash: string }
  /** A credential leaving current or pending: its pointer expires at `ttl` (epoch seconds). */
  | { readonly kind: 'expire'; readonly credentialHash: string; readonly ttl: number }
  /** A credential in grace accepted without an end again: its pointer's expiry is lifted. */
  | { readonly kind: 'revive'; readonly credentialHash: string };

/** The writes that take the pointers from `previous` (undefined for a new key) to `next`. */
export function pointerWrites(previous: ApiKeyRecord | undefined, next: ApiKeyRecord): PointerWrite[] {
  const wasLive = previous ? liveHashes(previous) : new Set<string>();
  const wasInGrace = new Set(previous?.graceCredentials.map((grace) => grace.hash));
  const live = liveHashes(next);
  const graceEnds = new Map(next.graceCredentials.map((grace) => [grace.hash, Date.parse(grace.validUntil)]));
  const writes: PointerWrite[] = [];
  for (const credentialHash of live) {
    if (wasLive.has(credentialHash)) continue;
    // The transitions never take a grace credential back (addPendingCredential refuses it); were
    // one to, its pointer must not go on expiring under a credential the key accepts.
    writes.push(wasInGrace.has(credentialHash) ? { kind: 'revive', credentialHash } : { kind: 'create', credentialHash });
  }
  for (const credentialHash of wasLive) {
    if (live.has(credentialHash)) continue;
    const until = graceEnds.get(credentialHash) ?? Date.parse(next.updatedAt);
    writes.push({ kind: 'expire', credentialHash, ttl: Math.ceil(until / 1000) + POINTER_LINGER_SECONDS });
  }
  // A grace credential that leaves the record (retired, revoked, pruned) already expires with its grace.
  return writes;
}

/** The credentials the record accepts with no end set on the record: current and pending. */
function liveHashes(record: ApiKeyRecord): Set<string> {
  const hashes = new Set([record.credentialHash]);
  if (record.pendingCredential) hashes.add(record.pendingCredential.hash);
  return hashes;
}
