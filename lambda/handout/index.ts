/**
 * The hand-out: how a key's credential reaches the places that hold it, for the provisioner and
 * rotation alike. The secret (its value and staging labels), the consumer writers behind one
 * interface, the provisioner's record of what it handed out and the undo of a failed run, and the
 * AWS error mapping they share.
 */
export { AWS_CLIENT_CONFIG } from './aws-client-config';
export { awsCall, awsErrorName } from './aws-errors';
export { describeError, HandoutError, type HandoutErrorCode, handoutErrors, isHandoutError } from './errors';
export {
  AWSCURRENT,
  AWSPENDING,
  describeVersions,
  keySecretValue,
  type KeySecretRead,
  moveCurrentTo,
  parseKeySecret,
  putPendingVersion,
  readKeySecret,
  readSecretVersion,
  removePendingLabel,
  sameSecretValue,
  type SecretVersions,
  type StagingLabel,
  type VersionSelector,
  writeKeySecret,
} from './key-secret';
export { type ConsumerOwner, consumerOwner, isOwner, OWNER_TAG, ownerTagValue } from './consumers/consumer-owner';
export { type ConsumerRef, type ConsumerRemoval, type ConsumerWriter, type RefOf } from './consumers/consumer-writer';
export { type ConsumerClients, consumerClients, createConsumerWriter, type WritableConsumer } from './consumers/registry';
export { lambdaEnvWriter, type LambdaEnvWriterOptions } from './consumers/lambda-env';
export { DEFAULT_PARAMETER_KEY, ssmParameterWriter } from './consumers/ssm-parameter';
export { removeConsumers, writeConsumers } from './consumers/consumer-set';
export { deleteInlineRule, inlineRuleWriter, readBackRuleHash, rulePayload, type RulePayloadOptions, writeKeyIntoRule } from './consumers/iot-rule-inline';
export { isProvisioned, type KeyRef, refOf, supersededKeys } from './key-ref';
export { isConcurrentApply, NO_RECORD_VERSION, type ProvisionedKey, provisionedKeyItemKey, ProvisionedKeyStore, recordedKeys } from './provisioned-key';
export { PendingKeyRecord } from './pending-key';
export { Compensation, concurrentRecord, type ConcurrentRecord } from './compensation';
