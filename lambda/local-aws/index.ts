/** The local AWS emulator for tests and `keyroll local-aws`: moto on loopback, with IoT tagging, Lambda Invoke for Node handlers, an IoT rules engine, Secrets Manager rotation as on AWS, and schedules that fire. */
export { type LocalAws, type LocalAwsOptions, startLocalAws } from './local-aws';
export { LocalAwsError, type LocalAwsErrorCode } from './errors';
export { type IotDelivery, type IotDeliveryQuery, readIotDeliveries } from './iot-deliveries';
export { LocalRouteError } from './local-routes';
export {
  type DueRotations,
  type RotationEvent,
  type RotationEventName,
  type RotationEventQuery,
  readRotationEvents,
  startDueRotations,
  waitForRotationEvent,
  type WaitForRotationEventOptions,
} from './secrets-rotation';
export { readScheduleRuns, runSchedule, type RunScheduleOptions, type ScheduleRun } from './schedules';
