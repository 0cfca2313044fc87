/** The local AWS emulator for tests and `keyroll local-aws`: moto on loopback, with IoT tagging, Lambda Invoke for Node handlers and an IoT rules engine. */
export { type LocalAws, type LocalAwsOptions, startLocalAws } from './local-aws';
export { LocalAwsError, type LocalAwsErrorCode } from './errors';
export { type IotDelivery, type IotDeliveryQuery, readIotDeliveries } from './iot-deliveries';
