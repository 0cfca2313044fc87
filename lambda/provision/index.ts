/**
 * The provisioner's public API: the Terraform adapter and its errors. What it hands keys out with
 * (the secret, the consumer writers, the record of what was provisioned) is lambda/handout/.
 */
export { createProvisioner, type Provisioner, type ProvisionerOptions } from './provisioner';
export { consumerRuleSql, deviceIdLevel, topicFilterProblem, RULE_SQL_VERSION } from './consumers/rule-sql';
export { specItemKey, type KeySpec, type KeySecretValue } from './key-spec';
export { ProvisionError, type ProvisionErrorCode } from './errors';
export { parseProvisionEvent, type ProvisionEvent, type ProvisionAction } from './provision-event';
