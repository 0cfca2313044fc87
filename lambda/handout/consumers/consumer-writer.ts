/**
 * One interface for every written consumer (every consumer but the reference rules, which read the
 * secret themselves): put a credential in, read back which credential it holds, take it out. The
 * provisioner and rotation drive all consumer types through it; registry.ts picks the writer by `type`.
 */
import type { LambdaEnvConsumer, SsmParameterConsumer } from '../../declared-key/contract';
import type { InlineIotRule, WrittenConsumer } from '../../provision/key-spec';
import type { ConsumerOwner } from './consumer-owner';

/**
 * The fields that name a written consumer, by type: enough to find it again when only a record
 * remembers it (its declaration is gone). A new consumer type adds its own here.
 */
export type ConsumerRef =
  | Pick<InlineIotRule, 'type' | 'ruleName'>
  | Pick<LambdaEnvConsumer, 'type' | 'functionName' | 'variable'>
  | Pick<SsmParameterConsumer, 'type' | 'name'>;

/** The ref of a consumer type. */
export type RefOf<C extends WrittenConsumer> = Extract<ConsumerRef, { type: C['type'] }>;

/** What removing a consumer came to. `not-owned`: it exists but is not tagged for this key, so it was left alone. */
export type ConsumerRemoval = 'deleted' | 'absent' | 'not-owned';

export interface ConsumerWriter<C extends WrittenConsumer> {
  /** How messages and logs name the consumer, e.g. `IoT topic rule acme_legacy`. */
  describe(consumer: RefOf<C>): string;
  /**
   * Makes the consumer hold `credential` (creating it, tagged for `owner`, when keyroll creates that
   * type), and returns its ARN. Refuses, and leaves alone, a consumer that belongs to another key.
   */
  write(consumer: C, credential: string, owner: ConsumerOwner): Promise<string>;
  /**
   * hashCredential (lambda/keys/credential-hash.ts) of the credential the consumer holds where its
   * declaration says it does, or undefined when it holds none there (or does not exist). Never the
   * plaintext: a caller compares hashes, so no credential leaves the writer.
   */
  readBackHash(consumer: C): Promise<string | undefined>;
  /** Takes the credential out of the consumer (deleting what keyroll created for `owner`). Repeatable. */
  remove(consumer: RefOf<C>, owner: ConsumerOwner): Promise<ConsumerRemoval>;
}
