/**
 * The provisioner's public API: the provisioner itself, and the helpers the rotation reuses to hand a
 * regenerated key to the secret and to inline rules (with the same ownership rules) without copying them.
 */
export { createProvisioner, type Provisioner, type ProvisionerOptions, AWS_CLIENT_CONFIG } from './provisioner';
export { readKeySecret, writeKeySecret, keySecretValue, parseKeySecret, type KeySecretRead } from './key-secret';
export {
  writeKeyIntoRule,
  deleteInlineRule,
  rulePayload,
  ruleOwnerTagValue,
  RULE_OWNER_TAG,
  type RulePayloadOptions,
  type RuleOwner,
  type RuleDeletion,
} from './consumers/iot-rule-inline';
export { consumerRuleSql, deviceIdLevel, topicFilterProblem, RULE_SQL_VERSION } from './consumers/rule-sql';
export { writeKeyIntoInlineConsumers, deleteInlineConsumers } from './consumers/inline-consumers';
export { ProvisionedKeyStore, provisionedKeyItemKey, recordedKeys, type ProvisionedKey } from './provisioned-key';
export { specItemKey, type KeySpec, type KeySecretValue } from './key-spec';
export { ProvisionError, type ProvisionErrorCode } from './errors';
export { parseProvisionEvent, type ProvisionEvent, type ProvisionAction } from './provision-event';
