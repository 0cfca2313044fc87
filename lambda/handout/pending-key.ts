/**
 * One run's writes to the provisioner's record of a declared key (provisioned-key.ts) while it hands
 * a key out: the key being handed out is recorded as pending before it exists anywhere, and as
 * current once every consumer holds it. A run that dies at any point thus leaves the next one (or the
 * delete) knowing which keys to revoke and which consumers are its own. Every write expects the version
 * this run last saw, so a concurrent apply of the same key fails one of the two runs
 * (CONCURRENT_APPLY) instead of letting the later write erase the other's keys.
 */
import { consumerId, uniqueConsumers } from './consumers/consumer-ref';
import type { ConsumerRef } from './consumers/consumer-writer';
import { isProvisioned, type KeyRef, keyRefId, supersededKeys } from './key-ref';
import { NO_RECORD_VERSION, type ProvisionedKey, type ProvisionedKeyFields, type ProvisionedKeyStore, recordedKeys, type SupersededKey } from './provisioned-key';

/** A declared key by name. */
export interface DeclaredName {
  readonly tenant: string;
  readonly name: string;
}

/**
 * @example
 * const records = await PendingKeyRecord.read(store, input, previousInput, clock);
 * const stale = records.settle(keyTheSecretHolds); // revoke these
 * await records.recordPending(newRef); … await records.recordHandingOut(newRef, consumerRefs); … await records.recordHandedOut(newRef, consumerRefs);
 */
export class PendingKeyRecord {
  private version: number;
  private current: KeyRef | undefined;
  private superseded: SupersededKey[] = [];

  private constructor(
    private readonly store: ProvisionedKeyStore,
    private readonly clock: () => Date,
    private readonly declared: DeclaredName,
    private readonly here: ProvisionedKey | undefined,
    /** The key's name at the last apply, when it moved (renamed, or to another tenant), and the record under it. */
    private readonly moved: { readonly name: DeclaredName; readonly record: ProvisionedKey | undefined } | undefined,
  ) {
    this.version = here?.version ?? NO_RECORD_VERSION;
  }

  /** Reads the record under the key's name, and the one under the name of the last apply if the key moved. */
  static async read(store: ProvisionedKeyStore, declared: DeclaredName, previous: DeclaredName | undefined, clock: () => Date): Promise<PendingKeyRecord> {
    const moved = previous && (previous.tenant !== declared.tenant || previous.name !== declared.name) ? previous : undefined;
    const here = await store.get(declared.tenant, declared.name);
    const earlier = moved ? await store.get(moved.tenant, moved.name) : undefined;
    return new PendingKeyRecord(store, clock, declared, here, moved && { name: moved, record: earlier });
  }

  /** Every key the records name: all of them were issued by the provisioner for this declaration. */
  get provisioned(): KeyRef[] {
    return [...recordedKeys(this.here), ...recordedKeys(this.moved?.record)];
  }

  /** The consumers the records say a key was (or was about to be) written into. */
  get recordedConsumers(): ConsumerRef[] {
    return uniqueConsumers([...(this.here?.consumers ?? []), ...(this.moved?.record?.consumers ?? [])]);
  }

  /** The superseded keys the records keep working until a time (see SupersededKey), by `keyRefId`. */
  get drainingUntil(): ReadonlyMap<string, string> {
    const draining = [...(this.here?.superseded ?? []), ...(this.moved?.record?.superseded ?? [])];
    return new Map(draining.flatMap((key) => (key.expiresAt ? [[keyRefId(key), key.expiresAt] as const] : [])));
  }

  /**
   * Settles what consumers may hold now: `held`, the key in the secret when it is the provisioner's,
   * else the last key handed out. Call it before any record*. Returns the keys an earlier run issued
   * that never reached the secret, and so reached no consumer either (the secret is written first):
   * revoke them now, before a new pending key takes their place.
   */
  settle(held: KeyRef | undefined): KeyRef[] {
    const stale = supersededKeys(held, [this.here?.pending, this.moved?.record?.pending]);
    this.current = held ?? this.here?.current ?? this.moved?.record?.current;
    const draining = this.drainingUntil;
    this.superseded = supersededKeys(this.current, this.provisioned)
      .filter((ref) => !isProvisioned(ref, stale))
      .map((ref) => ({ tenant: ref.tenant, keyId: ref.keyId, ...(draining.has(keyRefId(ref)) ? { expiresAt: draining.get(keyRefId(ref)) } : {}) }));
    return stale;
  }

  /** Records a key id as pending before the key exists, so even a run that dies right after issuing leaves the next one knowing which key to revoke. */
  async recordPending(pending: KeyRef): Promise<void> {
    await this.write({ current: this.current, pending, superseded: this.superseded, consumers: this.recordedConsumers });
  }

  /**
   * Records the key about to be handed out (`pending`: the one this run issued, if any) and the
   * consumers it is about to be written into, before the key or a new consumer is written anywhere;
   * skipped when that adds nothing to the record.
   */
  async recordHandingOut(pending: KeyRef | undefined, declared: readonly ConsumerRef[]): Promise<void> {
    const recorded = this.recordedConsumers;
    const recordedIds = new Set(recorded.map(consumerId));
    if (!pending && declared.every((consumer) => recordedIds.has(consumerId(consumer)))) return;
    await this.write({ current: this.current, pending, superseded: this.superseded, consumers: uniqueConsumers([...recorded, ...declared]) });
  }

  /**
   * Records `current` as handed out, with the consumers it is in, once every consumer holds it;
   * `draining`: superseded keys kept working until their `expiresAt`, revoked by a later run. Forgets
   * the record under the former name.
   */
  async recordHandedOut(current: KeyRef, declared: readonly ConsumerRef[], draining: readonly SupersededKey[] = []): Promise<void> {
    await this.write({ current, consumers: declared, ...(draining.length > 0 ? { superseded: draining } : {}) });
    const moved = this.moved;
    if (moved) await this.store.delete(moved.name.tenant, moved.name.name, moved.record?.version ?? NO_RECORD_VERSION);
  }

  private async write(fields: Omit<ProvisionedKeyFields, 'provisionedAt'>): Promise<void> {
    this.version = await this.store.put(this.declared.tenant, this.declared.name, { ...fields, provisionedAt: this.clock().toISOString() }, this.version);
  }
}
