/** One DynamoDB document client per process, with timeouts short enough for a request path. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DocumentClientOptions {
  /** Extra client configuration, e.g. middleware-free overrides in tests. @default {} */
  readonly client?: DynamoDBClient;
}

/**
 * The endpoint comes from the SDK's own configuration (`AWS_ENDPOINT_URL`, region, profile), so the
 * same code serves real AWS and the local emulator.
 */
export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const client =
    options.client ??
    new DynamoDBClient({
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
