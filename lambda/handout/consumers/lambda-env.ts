/**
 * A Lambda function's environment variable that holds the key (`lambda-env` consumer). The function
 * is the user's: keyroll changes that one variable and nothing else of its configuration, and never
 * creates or deletes the function.
 *
 * Lambda has no "set one variable" call: UpdateFunctionConfiguration replaces the whole variable
 * map. So a write reads the configuration, changes the one variable, and sends the map back with
 * the RevisionId it read; if anyone changed the function in between (a deploy of it, a human in the
 * console), Lambda refuses the update (PreconditionFailedException) and the write starts over from
 * a fresh read, so their change is kept. See
 * https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html
 *
 * Ownership: a function cannot carry keyroll's `keyroll:key` tag (keyroll did not create it, and
 * the function's own stack would remove a tag it does not declare). So the variable is keyroll's
 * when it is unset or holds a keyroll credential (`kr_…` with a valid checksum): a write or remove
 * refuses a variable holding anything else (CONSUMER_NOT_OWNED), so a mistyped `variable` cannot
 * overwrite, or delete, the function's database URL. Keys stacks refuse two keys declaring the
 * same variable (stacks/keys/consumer-targets.ts), which this check cannot tell apart.
 */
import {
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { hashCredential } from '../../keys/credential-hash';
import { parseKey } from '../../keys/key-format';
import type { LambdaEnvConsumer } from '../../declared-key/contract';
import { awsCall, awsErrorName } from '../aws-errors';
import { handoutErrors } from '../errors';
import { consumerErrors } from './consumer-errors';
import type { ConsumerRemoval, ConsumerWriter, RefOf } from './consumer-writer';

/** `lambdaEnvWriter`'s options: how long it waits for a function that is busy. */
export interface LambdaEnvWriterOptions {
  /**
   * The waits, in order, while the function is mid-update (its LastUpdateStatus is InProgress, or
   * Lambda answers ResourceConflictException): one re-read or retry after each, then CONSUMER_BUSY.
   * Lambda applies a configuration change in seconds; the bound keeps a stuck function from using
   * the provisioner's or rotation's whole Lambda timeout.
   * @default [500, 1000, 2000, 4000, 4000, 4000] (15.5 s)
   */
  readonly busyWaitsMs?: readonly number[];
  /**
   * How many more times a write starts over after the function changed between its read and its
   * update (PreconditionFailedException), before it gives up with CONSUMER_BUSY.
   * @default 3
   */
  readonly changedRetries?: number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

const DEFAULTS: Required<LambdaEnvWriterOptions> = {
  busyWaitsMs: [500, 1000, 2000, 4000, 4000, 4000],
  changedRetries: 3,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const IAM_FIX =
  "Check that the provisioner's and rotation's roles may lambda:GetFunctionConfiguration and lambda:UpdateFunctionConfiguration on the function " +
  '(a keys stack grants them for each function its keys declare: stacks/keys/consumer-grants.ts)';

/**
 * The function variable as a consumer writer.
 *
 * @example
 * const variables = lambdaEnvWriter({ lambda: new LambdaClient(AWS_CLIENT_CONFIG) });
 * await variables.write({ type: 'lambda-env', functionName: 'ingest', variable: 'KEYROLL_API_KEY' }, credential, owner);
 */
export function lambdaEnvWriter({ lambda }: { readonly lambda: LambdaClient }, options: LambdaEnvWriterOptions = {}): ConsumerWriter<LambdaEnvConsumer> {
  const settings = { ...DEFAULTS, ...options };
  return {
    describe: describeVariable,
    write: (consumer, credential) => writeVariable(lambda, settings, consumer, credential),
    readBackHash: (consumer) => readBackVariableHash(lambda, settings, consumer),
    remove: (consumer) => removeVariable(lambda, settings, consumer),
  };
}

type Settings = Required<LambdaEnvWriterOptions>;
type Variables = Record<string, string>;

function describeVariable(consumer: RefOf<LambdaEnvConsumer>): string {
  return `variable ${consumer.variable} of Lambda function ${consumer.functionName}`;
}

/** Sets the variable to `credential`, keeping every other variable and setting. Returns the function's ARN. */
async function writeVariable(lambda: LambdaClient, settings: Settings, consumer: LambdaEnvConsumer, credential: string): Promise<string> {
  return changeVariables(lambda, settings, consumer, (config, variables) => {
    if (!config) throw consumerErrors.functionNotFound(consumer.functionName);
    const arn = config.FunctionArn ?? consumer.functionName;
    const current = variables[consumer.variable];
    assertOwned(consumer, current);
    // Already there (a re-run apply, Secrets Manager retrying setSecret): no update, so no
    // needless redeploy of the function and no new revision to race its own deploys.
    if (current === credential) return { result: arn };
    return { result: arn, variables: { ...variables, [consumer.variable]: credential } };
  });
}

/** Deletes the variable (only it), if it holds a keyroll credential. */
async function removeVariable(lambda: LambdaClient, settings: Settings, consumer: RefOf<LambdaEnvConsumer>): Promise<ConsumerRemoval> {
  return changeVariables<ConsumerRemoval>(lambda, settings, consumer, (config, variables) => {
    const current = config ? variables[consumer.variable] : undefined;
    if (current === undefined) return { result: 'absent' };
    if (!isKeyrollCredential(current)) return { result: 'not-owned' };
    const { [consumer.variable]: _removed, ...rest } = variables;
    return { result: 'deleted', variables: rest };
  });
}

/**
 * hashCredential of the variable's value in the configuration the function runs with, or undefined
 * when the function or the variable is missing, or the function's last update failed (Lambda then
 * keeps running the previous configuration, so the value shown is not the one in use). While an
 * update is in progress it waits (bounded, then CONSUMER_BUSY): the value shown is not live yet.
 */
async function readBackVariableHash(lambda: LambdaClient, settings: Settings, consumer: LambdaEnvConsumer): Promise<string | undefined> {
  const config = await readSettled(lambda, consumer, new BusyWaits(settings));
  if (!config || config.LastUpdateStatus === 'Failed') return undefined;
  const value = variablesOf(consumer, config)[consumer.variable];
  return value === undefined ? undefined : hashCredential(value);
}

function assertOwned(consumer: RefOf<LambdaEnvConsumer>, current: string | undefined): void {
  if (current === undefined || isKeyrollCredential(current)) return;
  throw consumerErrors.notOwned(
    describeVariable(consumer),
    'already holds a value that is not a keyroll credential',
    `If the function reads the key from another variable, name that one in the consumer's \`variable\`. To hand this variable over to keyroll, ` +
      'remove it from the function (and from the stack that deploys the function), then re-run the apply.',
  );
}

const isKeyrollCredential = (value: string) => parseKey(value) !== undefined;

/** What a change decides from the function's configuration (undefined: no such function). */
interface Change<T> {
  readonly result: T;
  /** The whole new variable map; absent: nothing to update. */
  readonly variables?: Variables;
}

/**
 * Reads the configuration, lets `decide` change the variables, and sends them with the RevisionId
 * read: a read-modify-write that never overwrites a change made in between (it starts over, up to
 * `changedRetries` times) and waits, bounded, while the function is mid-update.
 */
async function changeVariables<T>(
  lambda: LambdaClient,
  settings: Settings,
  consumer: RefOf<LambdaEnvConsumer>,
  decide: (config: FunctionConfiguration | undefined, variables: Variables) => Change<T>,
): Promise<T> {
  const waits = new BusyWaits(settings);
  for (let changed = 0; ; ) {
    const config = await readSettled(lambda, consumer, waits);
    const change = decide(config, config ? variablesOf(consumer, config) : {});
    if (!change.variables || !config) return change.result;
    const outcome = await updateVariables(lambda, consumer, config, change.variables);
    if (outcome === 'updated') return change.result;
    if (outcome === 'changed' && ++changed > settings.changedRetries) {
      throw consumerErrors.busy(describeVariable(consumer), `changed ${changed} times while keyroll was writing it`);
    }
    if (outcome === 'busy' && !(await waits.next())) {
      throw consumerErrors.busy(describeVariable(consumer), 'stayed mid-update (ResourceConflictException) for longer than keyroll waits');
    }
    // 'gone': the next read finds no function, and `decide` says what that means.
  }
}

/**
 * The function's configuration once no update of it is in progress (a change sent now would be
 * refused), or undefined if there is no such function.
 */
async function readSettled(lambda: LambdaClient, consumer: RefOf<LambdaEnvConsumer>, waits: BusyWaits): Promise<FunctionConfiguration | undefined> {
  for (;;) {
    const config = await awsCall(`Reading the configuration of Lambda function ${consumer.functionName}`, `${IAM_FIX}.`, async () => {
      try {
        return await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: consumer.functionName }));
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    });
    if (!config || (config.LastUpdateStatus !== 'InProgress' && config.State !== 'Pending')) return config;
    if (!(await waits.next())) throw consumerErrors.busy(describeVariable(consumer), 'stayed mid-update (LastUpdateStatus InProgress) for longer than keyroll waits');
  }
}

/** The function's variables, refusing a configuration whose variables Lambda could not show (sending a map back would then drop them). */
function variablesOf(consumer: RefOf<LambdaEnvConsumer>, config: FunctionConfiguration): Variables {
  const error = config.Environment?.Error;
  if (error) throw consumerErrors.functionEnvironmentUnreadable(consumer.functionName, error.ErrorCode ?? 'an error');
  return { ...config.Environment?.Variables };
}

/** Sends the whole variable map, and nothing else of the configuration, guarded by the RevisionId read. */
async function updateVariables(
  lambda: LambdaClient,
  consumer: RefOf<LambdaEnvConsumer>,
  config: FunctionConfiguration,
  variables: Variables,
): Promise<'updated' | 'changed' | 'busy' | 'gone'> {
  try {
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: consumer.functionName,
        // Without a RevisionId Lambda applies the update whatever happened since the read.
        RevisionId: config.RevisionId,
        Environment: { Variables: variables },
      }),
    );
    return 'updated';
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'PreconditionFailedException') return 'changed';
    if (name === 'ResourceConflictException') return 'busy';
    if (name === 'ResourceNotFoundException') return 'gone';
    // Only the error's name: Lambda's messages about environment variables (the 4 KB limit) can
    // quote the whole map, the credential and the function's other variables with it.
    throw handoutErrors.awsRequestFailed(
      `Writing variable ${consumer.variable} of Lambda function ${consumer.functionName}`,
      withoutMessage(error),
      `${IAM_FIX}, and that the function's variables together stay under Lambda's 4 KB limit.`,
    );
  }
}

/** An error that names what failed and nothing more. */
function withoutMessage(error: unknown): Error {
  return Object.assign(new Error("details left out, for they may quote the function's variables"), { name: awsErrorName(error) ?? 'Error' });
}

/** The bounded waits of one operation, shared by its re-reads and retries. */
class BusyWaits {
  private index = 0;
  constructor(private readonly settings: Settings) {}

  /** Waits the next interval; false when none is left. */
  async next(): Promise<boolean> {
    const wait = this.settings.busyWaitsMs[this.index++];
    if (wait === undefined) return false;
    await this.settings.sleep(wait);
    return true;
  }
}
