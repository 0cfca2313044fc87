/** Simulated devices publishing to a tenant's consumer topics, and what the rules did with the readings. */
export { type ConsumerTopic, type DeclaredConsumer, declaredConsumers, deployedConsumers } from './consumer-topics';
export { type Outcome, type OutcomeCounts, OUTCOMES, formatCounts, outcomeOf, totalOf } from './delivery-counts';
export { DeviceFleet, type DeviceFleetOptions, type FleetTotals, type RuleTotals, type SecondReport } from './device-fleet';
export { MAX_DEVICES, MAX_RATE, parseDeviceCount, parseDuration, parseRate } from './device-options';
export { deviceIds, deviceTopic, simulatedReading } from './device-topics';
export { AWS_DELIVERIES_UNOBSERVABLE, secondLine, summaryLines } from './fleet-report';
export { type IotTarget, resolveIotTarget } from './iot-target';
export { type DestinationState, destinationProblems, destinationStates, waitForEnabledDestinations } from './rule-destinations';
