/**
 * An SSM Parameter Store SecureString that holds the key (`ssm-parameter` consumer), for scripts
 * and services that read their configuration from Parameter Store. keyroll creates the parameter,
 * tagged `keyroll:key = <tenant>/<name>`, overwrites it at each rotation, and deletes it with the
 * key; it never writes into, or deletes, a parameter without that tag (CONSUMER_NOT_OWNED).
 *
 * Each write is a new version of the parameter (SSM keeps the last 100), so older versions keep
 * older credentials: those are revoked once their grace ends, so a version read back later holds
 * a dead key. See https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 */
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  GetParameterCommand,
  ListTagsForResourceCommand,
  type Parameter,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { hashCredential } from '../../keys/credential-hash';
import type { SsmParameterConsumer } from '../../declared-key/contract';
import { awsCall, awsErrorName } from '../aws-errors';
import { handoutErrors } from '../errors';
import { consumerErrors } from './consumer-errors';
import { type ConsumerOwner, isOwner, OWNER_TAG } from './consumer-owner';
import type { ConsumerRemoval, ConsumerWriter, RefOf } from './consumer-writer';

/**
 * The KMS key a parameter gets when its consumer names none: SSM's AWS managed key. Sent
 * explicitly, so dropping `kmsKeyArn` from a declaration moves the parameter back to it.
 */
export const DEFAULT_PARAMETER_KEY = 'alias/aws/ssm';

const IAM_FIX =
  "Check that the provisioner's and rotation's roles may ssm:GetParameter, ssm:PutParameter, ssm:DeleteParameter, ssm:AddTagsToResource and ssm:ListTagsForResource " +
  "on the parameter, and use its KMS key through SSM (a keys stack grants these for each parameter its keys declare: stacks/keys/consumer-grants.ts), and that the consumer's kmsKeyArn names a key that exists and is enabled";

/**
 * The SSM parameter as a consumer writer.
 *
 * @example
 * const parameters = ssmParameterWriter({ ssm: new SSMClient(AWS_CLIENT_CONFIG) });
 * await parameters.write({ type: 'ssm-parameter', name: '/acme/ingest/api-key' }, credential, consumerOwner(spec));
 */
export function ssmParameterWriter({ ssm }: { readonly ssm: SSMClient }): ConsumerWriter<SsmParameterConsumer> {
  return {
    describe: describeParameter,
    write: (consumer, credential, owner) => writeParameter(ssm, consumer, credential, owner),
    readBackHash: (consumer) => readBackParameterHash(ssm, consumer),
    remove: (consumer, owner) => deleteParameter(ssm, consumer, owner),
  };
}

function describeParameter(consumer: RefOf<SsmParameterConsumer>): string {
  return `SSM parameter ${consumer.name}`;
}

/**
 * Makes the parameter a SecureString holding `credential`, encrypted with the consumer's KMS key:
 * created tagged for `owner` if it does not exist, else overwritten if it is tagged for `owner`
 * (re-tagged if tagged with an earlier name of the key). Returns its ARN.
 */
async function writeParameter(ssm: SSMClient, consumer: SsmParameterConsumer, credential: string, owner: ConsumerOwner): Promise<string> {
  const put = { Name: consumer.name, Value: credential, Type: 'SecureString', KeyId: consumer.kmsKeyArn ?? DEFAULT_PARAMETER_KEY } as const;
  const what = `Writing the key into ${describeParameter(consumer)}`;
  // Two rounds: a parameter deleted between the create that found it and the read of its tags is created in the second.
  for (let round = 1; ; round++) {
    // Create first: SSM refuses tags together with Overwrite, and the tag must come with the
    // create, so no untagged parameter ever holds the key.
    const created = await awsCall(what, `${IAM_FIX}.`, async () => {
      try {
        await ssm.send(new PutParameterCommand({ ...put, Overwrite: false, Tags: [{ Key: OWNER_TAG, Value: owner.key }] }));
        return true;
      } catch (error) {
        if (awsErrorName(error) === 'ParameterAlreadyExists') return false;
        throw error;
      }
    });
    if (!created) {
      const tag = await parameterOwnerTag(ssm, consumer);
      if (tag === ABSENT) {
        if (round === 1) continue;
        throw handoutErrors.awsRequestFailed(what, 'the parameter was deleted while keyroll wrote it, twice', 'Check that nothing else deletes it, then re-run the apply.');
      }
      await claimParameter(ssm, consumer, owner, tag);
      await awsCall(what, `${IAM_FIX}.`, () => ssm.send(new PutParameterCommand({ ...put, Overwrite: true })));
    }
    const parameter = await getParameter(ssm, consumer, { decrypt: false });
    if (parameter?.ARN) return parameter.ARN;
    throw handoutErrors.awsRequestFailed(`Reading ${describeParameter(consumer)} after writing it`, 'it is gone', 'Check that nothing else deletes it, then re-run the apply.');
  }
}

/** Deletes the parameter if it is tagged for `owner`; one without that tag is not this key's and is left alone. Repeatable. */
async function deleteParameter(ssm: SSMClient, consumer: RefOf<SsmParameterConsumer>, owner: ConsumerOwner): Promise<ConsumerRemoval> {
  const tag = await parameterOwnerTag(ssm, consumer);
  if (tag === ABSENT) return 'absent';
  if (!isOwner(owner, tag)) return 'not-owned';
  return awsCall(`Deleting ${describeParameter(consumer)}`, `${IAM_FIX}.`, async () => {
    try {
      await ssm.send(new DeleteParameterCommand({ Name: consumer.name }));
      return 'deleted' as const;
    } catch (error) {
      // Removal must be repeatable: a parameter deleted meanwhile is done.
      if (awsErrorName(error) === 'ParameterNotFound') return 'absent' as const;
      throw error;
    }
  });
}

/**
 * hashCredential of the parameter's decrypted value, or undefined when it does not exist or is not
 * a SecureString (the declaration says SecureString; anything else was rewritten by someone else).
 */
async function readBackParameterHash(ssm: SSMClient, consumer: SsmParameterConsumer): Promise<string | undefined> {
  const parameter = await getParameter(ssm, consumer, { decrypt: true });
  if (parameter?.Type !== 'SecureString' || parameter.Value === undefined) return undefined;
  return hashCredential(parameter.Value);
}

/** Refuses a parameter not tagged for `owner`; re-tags one tagged with an earlier name of the same key. */
async function claimParameter(ssm: SSMClient, consumer: RefOf<SsmParameterConsumer>, owner: ConsumerOwner, tag: string | undefined): Promise<void> {
  if (!isOwner(owner, tag)) {
    throw consumerErrors.notOwned(
      describeParameter(consumer),
      `exists but was not created by keyroll for key \`${owner.key}\` (its ${OWNER_TAG} tag is ${tag === undefined ? 'absent' : `\`${tag}\``})`,
      `Give the consumer a parameter name of its own, or hand this parameter over deliberately by tagging it ${OWNER_TAG}=${owner.key} ` +
        `(aws ssm add-tags-to-resource --resource-type Parameter --resource-id ${consumer.name} --tags Key=${OWNER_TAG},Value=${owner.key}).`,
    );
  }
  if (tag === owner.key) return;
  await awsCall(`Re-tagging ${describeParameter(consumer)} for key \`${owner.key}\``, `${IAM_FIX}.`, () =>
    ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: consumer.name, Tags: [{ Key: OWNER_TAG, Value: owner.key }] })),
  );
}

/** No such parameter (as opposed to one without the tag, `undefined`). */
const ABSENT = Symbol('absent');

/** The parameter's `keyroll:key` tag (undefined: none), or ABSENT when there is no such parameter. */
async function parameterOwnerTag(ssm: SSMClient, consumer: RefOf<SsmParameterConsumer>): Promise<string | undefined | typeof ABSENT> {
  return awsCall(`Reading the tags of ${describeParameter(consumer)}`, `${IAM_FIX}.`, async () => {
    try {
      const { TagList } = await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: consumer.name }));
      return (TagList ?? []).find((tag) => tag.Key === OWNER_TAG)?.Value;
    } catch (error) {
      // SSM answers InvalidResourceId for tags of a parameter that does not exist.
      if (awsErrorName(error) === 'InvalidResourceId' || awsErrorName(error) === 'ParameterNotFound') return ABSENT;
      throw error;
    }
  });
}

/** The parameter, or undefined when there is none. Decrypted only when asked (that needs kms:Decrypt). */
async function getParameter(ssm: SSMClient, consumer: RefOf<SsmParameterConsumer>, { decrypt }: { decrypt: boolean }): Promise<Parameter | undefined> {
  return awsCall(`Reading ${describeParameter(consumer)}`, `${IAM_FIX}.`, async () => {
    try {
      return (await ssm.send(new GetParameterCommand({ Name: consumer.name, WithDecryption: decrypt }))).Parameter;
    } catch (error) {
      if (awsErrorName(error) === 'ParameterNotFound') return undefined;
      throw error;
    }
  });
}
