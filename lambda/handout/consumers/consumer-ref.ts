/**
 * A written consumer by the fields that name it (its ConsumerRef): what the provisioner's record
 * remembers of each consumer it wrote, so it can remove one its spec no longer declares, or whose
 * spec is gone. Also the consumer's id, `<type>:<handle>`, as status, logs and the rotation name it.
 */
import type { WrittenConsumer, WrittenConsumerType } from '../../declared-key/contract';
import type { ConsumerRef } from './consumer-writer';

/**
 * The fields beside `type` that name a consumer of each type: the same resource whatever else its
 * declaration changes (a rule's SQL, a parameter's KMS key). A new consumer type adds its own.
 */
const NAMING_FIELDS: { readonly [T in WrittenConsumerType]: readonly (keyof Extract<WrittenConsumer, { type: T }> & string)[] } = {
  'iot-rule-inline': ['ruleName'],
  'lambda-env': ['functionName', 'variable'],
  'ssm-parameter': ['name'],
};

/** The ref of a declared consumer: its type and naming fields, nothing else. */
export function consumerRefOf(consumer: WrittenConsumer): ConsumerRef {
  const fields = NAMING_FIELDS[consumer.type] as readonly string[];
  const named = consumer as unknown as Record<string, string>;
  // ConsumerRef is, per type, exactly these fields (see consumer-writer.ts).
  return { type: consumer.type, ...Object.fromEntries(fields.map((field) => [field, named[field]])) } as ConsumerRef;
}

/**
 * `<type>:<handle>`, e.g. `iot-rule-inline:acme_legacy`, `lambda-env:ingest#KEYROLL_API_KEY`,
 * `ssm-parameter:/acme/api-key`: equal for two refs to the same consumer.
 */
export function consumerId(consumer: ConsumerRef | WrittenConsumer): string {
  const fields = NAMING_FIELDS[consumer.type] as readonly string[];
  const named = consumer as unknown as Record<string, string>;
  return `${consumer.type}:${fields.map((field) => named[field]).join('#')}`;
}

/** A ref as a record stored it, or undefined when it is not one (an unknown type, a missing field). */
export function parseConsumerRef(value: unknown): ConsumerRef | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const item = value as Record<string, unknown>;
  const fields = typeof item.type === 'string' && Object.hasOwn(NAMING_FIELDS, item.type) ? (NAMING_FIELDS[item.type as WrittenConsumerType] as readonly string[]) : undefined;
  if (!fields || !fields.every((field) => typeof item[field] === 'string' && item[field] !== '')) return undefined;
  return { type: item.type, ...Object.fromEntries(fields.map((field) => [field, item[field]])) } as ConsumerRef;
}

/** Each consumer once, by id, in first-seen order. */
export function uniqueConsumers<C extends ConsumerRef | WrittenConsumer>(consumers: readonly C[]): C[] {
  const seen = new Set<string>();
  return consumers.filter((consumer) => {
    const id = consumerId(consumer);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
