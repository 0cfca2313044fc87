/** A key's written consumers as a set: every declared one given the credential, and ones no longer declared removed. */
import type { WrittenConsumer } from '../../provision/key-spec';
import type { ConsumerOwner } from './consumer-owner';
import type { ConsumerRef, ConsumerWriter, RefOf } from './consumer-writer';

/**
 * Writes `credential` into each consumer as declared, one after another, and returns their ARNs in
 * the declared order. Called on every apply, also when the key is kept, so a changed topic, URL or
 * header reaches the consumer. `onWritten` hears of each consumer once it holds the credential, so
 * a caller can undo exactly those.
 */
export async function writeConsumers<C extends WrittenConsumer>(
  writer: ConsumerWriter<C>,
  consumers: readonly C[],
  credential: string,
  owner: ConsumerOwner,
  onWritten: (consumer: C) => void = () => undefined,
): Promise<string[]> {
  const arns: string[] = [];
  for (const consumer of consumers) {
    arns.push(await writer.write(consumer, credential, owner));
    onWritten(consumer);
  }
  return arns;
}

export interface ConsumersRemoved<R extends ConsumerRef> {
  /** Consumers that existed and were removed. */
  readonly deleted: R[];
  /** Consumers that exist but are not tagged for this key: left alone. */
  readonly notOwned: R[];
}

/** Removes consumers, each only if it is tagged for `owner`. */
export async function removeConsumers<C extends WrittenConsumer, R extends RefOf<C>>(
  writer: ConsumerWriter<C>,
  consumers: readonly R[],
  owner: ConsumerOwner,
): Promise<ConsumersRemoved<R>> {
  const result: ConsumersRemoved<R> = { deleted: [], notOwned: [] };
  for (const consumer of consumers) {
    const outcome = await writer.remove(consumer, owner);
    if (outcome === 'deleted') result.deleted.push(consumer);
    if (outcome === 'not-owned') result.notOwned.push(consumer);
  }
  return result;
}
