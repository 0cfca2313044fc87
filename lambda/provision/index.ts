/** The provisioner's public API, for the Lambda entry point, the stacks and the rotation that reuses its helpers. */
export { createProvisioner, type Provisioner, type ProvisionerOptions } from './provisioner';
export { readKeySecret, writeKeySecret, keySecretValue, parseKeySecret, type KeySecretRead } from './key-secret';
export { writeKeyIntoRule, deleteInlineRule, withKeyHeader, type KeyHeaderTarget } from './consumers/iot-rule-inline';
export { writeKeyIntoInlineConsumers, deleteInlineConsumers } from './consumers/inline-consumers';
export { ProvisionError, type ProvisionErrorCode } from './errors';
export { parseProvisionEvent, type ProvisionEvent, type ProvisionAction } from './provision-event';
