/**
 * What becomes of the keys a declaration handed out before its current one, once a run has handed
 * its key out: revoked now, or kept working for the consumer cache horizon. A reference rule reads
 * the secret through IoT's `get_secret`, which caches it for up to 15 minutes, so after a replace
 * (environment or customer changed) it may keep sending the superseded key for that long. Such a
 * key expires at the horizon and is revoked by the first run after it; without reference rules
 * every consumer already holds the new key, and the old one is revoked at once.
 */
import { type KeyRef, keyRefId } from '../handout/key-ref';
import type { SupersededKey } from '../handout/provisioned-key';
import { provisionErrors } from './errors';

/** AWS's: IoT Core caches a `get_secret` result for up to 15 minutes. */
export const DEFAULT_CONSUMER_CACHE_SECONDS = 900;

/**
 * The consumer cache horizon in seconds, from KEYROLL_CONSUMER_CACHE_SECONDS (the deploy sets it
 * from KEYROLL_IOT_SECRET_CACHE_SECONDS, as for the rotation Lambda). Throws INVALID_SETTING.
 */
export function consumerCacheSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KEYROLL_CONSUMER_CACHE_SECONDS?.trim();
  if (!raw) return DEFAULT_CONSUMER_CACHE_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw provisionErrors.invalidSetting('KEYROLL_CONSUMER_CACHE_SECONDS', raw, `give a number of seconds, 0 or more, or unset it for AWS's ${DEFAULT_CONSUMER_CACHE_SECONDS}.`);
  }
  return seconds;
}

export interface SupersededFacts {
  /** Keys handed out before the current one, each once (see supersededKeys). */
  readonly superseded: readonly KeyRef[];
  /** Superseded keys already kept working until a time, by keyRefId (the record's). */
  readonly drainingUntil: ReadonlyMap<string, string>;
  /** The key this run replaced, if it did, with its own expiry. */
  readonly replaced?: { readonly ref: KeyRef; readonly expiresAt?: string };
  /** Whether the spec has reference rules (consumers that cache the secret). */
  readonly cachingConsumers: boolean;
  readonly horizonMs: number;
  readonly nowMs: number;
}

export interface SupersededDisposal {
  /** Revoke these now. */
  readonly revoke: KeyRef[];
  /** Keep these in the record, working until their `expiresAt`. */
  readonly draining: SupersededKey[];
  /** The replaced key starts draining: give it this `expiresAt` (it is in `draining` too). */
  readonly startDrain?: SupersededKey & { readonly expiresAt: string };
}

/** Decides, for each superseded key, whether it is revoked now or keeps working until an expiry. Pure. */
export function disposeSuperseded(facts: SupersededFacts): SupersededDisposal {
  const revoke: KeyRef[] = [];
  const draining: SupersededKey[] = [];
  let startDrain: SupersededDisposal['startDrain'];
  const replacedId = facts.replaced && keyRefId(facts.replaced.ref);
  for (const ref of facts.superseded) {
    const id = keyRefId(ref);
    const recorded = facts.drainingUntil.get(id);
    if (recorded !== undefined) {
      if (Date.parse(recorded) > facts.nowMs) draining.push({ ...ref, expiresAt: recorded });
      else revoke.push(ref);
      continue;
    }
    if (id === replacedId && facts.cachingConsumers && facts.horizonMs > 0) {
      // Never later than the key would have expired anyway.
      const ownExpiry = facts.replaced?.expiresAt ? Date.parse(facts.replaced.expiresAt) : Infinity;
      const untilMs = Math.min(facts.nowMs + facts.horizonMs, ownExpiry);
      if (untilMs > facts.nowMs) {
        startDrain = { tenant: ref.tenant, keyId: ref.keyId, expiresAt: new Date(untilMs).toISOString() };
        draining.push(startDrain);
        continue;
      }
    }
    revoke.push(ref);
  }
  return { revoke, draining, ...(startDrain ? { startDrain } : {}) };
}
