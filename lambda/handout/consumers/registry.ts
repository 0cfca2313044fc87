/**
 * The consumer writers, by consumer `type`, behind one ConsumerWriter that dispatches on the type.
 * A new consumer type is a module exporting its writer factory, one line in WRITERS, its ref in
 * consumer-writer.ts, and its client in ConsumerClients if it needs a new one.
 */
import { IoTClient } from '@aws-sdk/client-iot';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { WrittenConsumer } from '../../provision/key-spec';
import { AWS_CLIENT_CONFIG } from '../aws-client-config';
import type { ConsumerWriter, RefOf } from './consumer-writer';
import { inlineRuleWriter } from './iot-rule-inline';
import { lambdaEnvWriter } from './lambda-env';
import { ssmParameterWriter } from './ssm-parameter';

/** The AWS clients the writers use, made once by the caller (with AWS_CLIENT_CONFIG's timeouts). */
export interface ConsumerClients {
  readonly iot: IoTClient;
  readonly lambda: LambdaClient;
  readonly ssm: SSMClient;
}

/**
 * A client for every consumer type, with AWS_CLIENT_CONFIG's timeouts, except those given. Making
 * a client sends nothing, so a key without that consumer type costs nothing.
 *
 * @example
 * const consumers = createConsumerWriter(consumerClients({ iot: options.iot }));
 */
export function consumerClients(given: Partial<ConsumerClients> = {}): ConsumerClients {
  return {
    iot: given.iot ?? new IoTClient(AWS_CLIENT_CONFIG),
    lambda: given.lambda ?? new LambdaClient(AWS_CLIENT_CONFIG),
    ssm: given.ssm ?? new SSMClient(AWS_CLIENT_CONFIG),
  };
}

type WriterFactories = { readonly [T in WrittenConsumer['type']]?: (clients: ConsumerClients) => ConsumerWriter<Extract<WrittenConsumer, { type: T }>> };

const WRITERS = {
  'iot-rule-inline': inlineRuleWriter,
  'lambda-env': lambdaEnvWriter,
  'ssm-parameter': ssmParameterWriter,
} satisfies WriterFactories;

/** The written consumers keyroll has a writer for. */
export type WritableConsumer = Extract<WrittenConsumer, { type: keyof typeof WRITERS }>;

/**
 * One writer for every writable consumer: each call goes to the writer of the consumer's type.
 *
 * @example
 * const consumers = createConsumerWriter({ iot: new IoTClient(AWS_CLIENT_CONFIG) });
 * const matches = (await consumers.readBackHash(rule)) === hashCredential(credential);
 */
export function createConsumerWriter(clients: ConsumerClients): ConsumerWriter<WritableConsumer> {
  const writers = new Map<string, ConsumerWriter<WritableConsumer>>(
    Object.entries(WRITERS).map(([type, make]) => [type, make(clients) as ConsumerWriter<WritableConsumer>]),
  );
  // TypeScript cannot tie a consumer's type to its writer's through the map, so the writer is looked
  // up by the type at run time; a spec's consumers were validated, so an unknown type is a bug here.
  const writerOf = (consumer: RefOf<WritableConsumer>): ConsumerWriter<WritableConsumer> => {
    const writer = writers.get(consumer.type);
    if (!writer) throw new Error(`keyroll has no writer for consumer type \`${String(consumer.type)}\`; add one in lambda/handout/consumers/registry.ts.`);
    return writer;
  };
  return {
    describe: (consumer) => writerOf(consumer).describe(consumer),
    write: (consumer, credential, owner) => writerOf(consumer).write(consumer, credential, owner),
    readBackHash: (consumer) => writerOf(consumer).readBackHash(consumer),
    remove: (consumer, owner) => writerOf(consumer).remove(consumer, owner),
  };
}
