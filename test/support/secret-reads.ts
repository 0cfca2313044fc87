/**
 * A document client that counts the verifier's store reads, told apart by secret hash: each
 * `findKeyBySecretHash` starts with one GetItem of the secret's pointer (`pk = SECRET#<hash>`).
 * Counted in SDK middleware, so the service under test runs unchanged against the emulator.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';

export function countingSecretReads() {
  const byHash = new Map<string, number>();
  let total = 0;
  // As createDocumentClient builds its own, so the service behaves as it does in production.
  const client = new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      // The document client's input, unmarshalled or not depending on where its own middleware sits.
      const raw = (args.input as { Key?: { pk?: string | { S?: string } } }).Key?.pk;
      const pk = typeof raw === 'string' ? raw : raw?.S;
      if (context.commandName === 'GetItemCommand' && pk?.startsWith('SECRET#')) {
        const hash = pk.slice('SECRET#'.length);
        byHash.set(hash, (byHash.get(hash) ?? 0) + 1);
        total += 1;
      }
      return next(args);
    },
    { step: 'initialize', name: 'countSecretReads' },
  );
  return {
    documentClient: createDocumentClient({ client }),
    /** Store reads so far for one plaintext key. */
    readsOf: (key: string) => byHash.get(hashCredential(key)) ?? 0,
    /** Store reads so far for every key. */
    total: () => total,
  };
}
