import { MAX_GRACE_SECONDS } from '../keys/key-input';
import {
  apiKeyPropsSchema,
  consumerSchema,
  inlineConsumersOf,
  keySpecItemSchema,
  keySpecSchema,
  type KeySpec,
  ROTATION_BOUNDS,
  writtenConsumerSchema,
  writtenConsumersOfType,
} from './contract';

const props = { tenant: 'acme', name: 'ingest', environment: 'production', permissions: ['telemetry:write'] } as const;
const inlineRule = { type: 'iot-rule-inline', ruleName: 'legacy', sql: "SELECT * FROM 'a/+'", sqlVersion: '2016-03-23', url: 'https://t.example/v1/telemetry', headerName: 'x-api-key' } as const;
const spec: KeySpec = {
  tenant: 'acme',
  name: 'ingest',
  environment: 'production',
  permissions: ['telemetry:write'],
  rateLimit: { limit: 600, windowSeconds: 60 },
  tags: [],
  consumers: [inlineRule, { type: 'lambda-env', functionName: 'ingest', variable: 'KEYROLL_API_KEY' }, { type: 'ssm-parameter', name: '/acme/ingest/api-key' }],
  referenceRules: ['by_reference'],
};

/** The messages zod reports for one consumer, by field. */
const consumerProblems = (consumer: object) => {
  const parsed = apiKeyPropsSchema.safeParse({ ...props, consumers: [consumer] });
  return parsed.success ? [] : parsed.error.issues.map((issue) => [issue.path.slice(2).join('.'), issue.message]);
};

describe('the declared-key contract', () => {
  it('defines each field once: the spec takes the very schemas the props do', () => {
    expect(keySpecItemSchema.shape.rotation.unwrap()).toBe(apiKeyPropsSchema.shape.rotation.unwrap());
    expect(keySpecItemSchema.shape.permissions).toBe(apiKeyPropsSchema.shape.permissions);
    const [, lambdaEnv, ssmParameter] = consumerSchema.options;
    expect(writtenConsumerSchema.options).toContain(lambdaEnv);
    expect(writtenConsumerSchema.options).toContain(ssmParameter);
  });

  it("bounds a rotation's grace by the API's regenerate grace, in both the props and the spec", () => {
    expect(ROTATION_BOUNDS.graceMinutes.max * 60).toBe(MAX_GRACE_SECONDS);
    const rotation = { everyDays: 30, graceMinutes: MAX_GRACE_SECONDS / 60 + 1 };
    for (const parsed of [apiKeyPropsSchema.safeParse({ ...props, rotation }), keySpecSchema.safeParse({ ...spec, rotation })]) {
      expect(parsed.error?.issues.map((issue) => issue.message)).toEqual(['must be at most 10080 (7 days)']);
    }
  });

  describe('lambda-env consumers', () => {
    it('take a function name or its unqualified ARN, and a variable name', () => {
      expect(consumerProblems({ type: 'lambda-env', functionName: 'acme-ingest_2', variable: 'KEYROLL_API_KEY' })).toEqual([]);
      expect(consumerProblems({ type: 'lambda-env', functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:acme-ingest', variable: 'ApiKey' })).toEqual([]);
    });

    it('refuse a version or alias, and a name Lambda would refuse', () => {
      const functionRule = 'must be a Lambda function name (1-64 letters, digits, dashes or underscores) or its ARN, without a version or alias';
      for (const functionName of ['arn:aws:lambda:eu-west-1:123456789012:function:ingest:live', 'ingest:$LATEST', 'acme ingest', 'x'.repeat(65)]) {
        expect(consumerProblems({ type: 'lambda-env', functionName, variable: 'KEYROLL_API_KEY' })).toEqual([['functionName', functionRule]]);
      }
    });

    it("refuse a variable name Lambda refuses or reserves for itself", () => {
      const shape = 'must be an environment variable name: a letter, then letters, digits or underscores, at least 2 characters, e.g. KEYROLL_API_KEY';
      for (const variable of ['1KEY', 'API-KEY', 'K', '_HANDLER']) {
        expect(consumerProblems({ type: 'lambda-env', functionName: 'ingest', variable })).toEqual([['variable', shape]]);
      }
      for (const variable of ['AWS_REGION', 'AWS_SECRET_ACCESS_KEY', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'TZ']) {
        expect(consumerProblems({ type: 'lambda-env', functionName: 'ingest', variable })).toEqual([['variable', expect.stringMatching(/^must not be a name Lambda reserves \(AWS_\*, /)]]);
      }
    });
  });

  describe('ssm-parameter consumers', () => {
    it('take a parameter name, with or without a leading slash, and a KMS key', () => {
      expect(consumerProblems({ type: 'ssm-parameter', name: '/acme/ingest/api-key' })).toEqual([]);
      expect(consumerProblems({ type: 'ssm-parameter', name: 'acme.ingest_key-1', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1' })).toEqual([]);
    });

    it('refuse names SSM refuses or reserves', () => {
      expect(consumerProblems({ type: 'ssm-parameter', name: '/acme/api key' })).toEqual([['name', expect.stringMatching(/^must be an SSM parameter name: letters, digits and _ \. - \//)]]);
      for (const name of ['/aws/acme', 'ssm-key', '/AWSkey']) {
        expect(consumerProblems({ type: 'ssm-parameter', name })).toEqual([['name', expect.stringMatching(/^must not begin with "aws" or "ssm"/)]]);
      }
      expect(consumerProblems({ type: 'ssm-parameter', name: '/a', kmsKeyArn: 'alias/x' })).toEqual([['kmsKeyArn', 'must be a KMS key ARN']]);
    });
  });

  it('names the consumer types when a consumer has none it knows', () => {
    expect(consumerProblems({ type: 'webhook', url: 'https://x' })).toEqual([['type', 'must be one of "iot-rule", "lambda-env", "ssm-parameter"']]);
  });

  describe('the spec', () => {
    it('reads as written, its consumers in declared order', () => {
      const read = keySpecSchema.parse(JSON.parse(JSON.stringify(spec)));
      expect(read).toEqual(spec);
      expect(writtenConsumersOfType(read, 'lambda-env')).toEqual([spec.consumers[1]]);
      expect(writtenConsumersOfType(read, 'ssm-parameter')).toEqual([spec.consumers[2]]);
      expect(inlineConsumersOf(read)).toEqual([inlineRule]);
      expect(inlineConsumersOf(undefined)).toEqual([]);
    });

    it('reads an item written before consumers had types other than inline rules', () => {
      const { consumers: _consumers, referenceRules: _referenceRules, ...rest } = spec;
      const { sqlVersion: _sqlVersion, ...olderRule } = inlineRule;
      const read = keySpecSchema.parse({ ...rest, inlineConsumers: [olderRule] });
      expect(read.consumers).toEqual([inlineRule]);
      expect(read.referenceRules).toEqual([]);
    });

    it('refuses an item that has both lists, since neither can be trusted to be the newer', () => {
      const parsed = keySpecSchema.safeParse({ ...spec, inlineConsumers: [] });
      expect(parsed.error?.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['inlineConsumers'] })]);
    });
  });
});
