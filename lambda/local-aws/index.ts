/** The local AWS emulator for tests and `keyroll local-aws`: moto on loopback, with IoT tagging and Lambda Invoke for Node handlers. */
export { type LocalAws, type LocalAwsOptions, startLocalAws } from './local-aws';
export { LocalAwsError, type LocalAwsErrorCode } from './errors';
