/**
 * `keyroll devices [--tenant] [--rate N/s] [--duration S] [--devices N] [--file]`: simulated devices
 * publish readings (no deviceId: the rule takes it from the topic) through iot-data Publish to the
 * tenant's consumer topics, and each second a line on stderr says what was published and, on the
 * emulator, what the rules delivered, by status. Ctrl-C or --duration ends it with a summary on stdout.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { keysFilePath } from '../../../stacks/keys/keys-file-check';
import {
  AWS_DELIVERIES_UNOBSERVABLE,
  DeviceFleet,
  declaredConsumers,
  deployedConsumers,
  destinationProblems,
  destinationStates,
  parseDeviceCount,
  parseDuration,
  parseRate,
  resolveIotTarget,
  secondLine,
  summaryLines,
} from '../devices';
import { listenForInterrupt } from '../until-interrupted';

export interface DevicesOptions {
  /** @default the keys file's only tenant with consumers */
  readonly tenant?: string;
  /** Readings per second across all topics. @default one per topic */
  readonly rate?: number;
  /** Seconds. @default until Ctrl-C */
  readonly duration?: number;
  /** Devices per topic. @default 3 */
  readonly devices?: number;
  /** @default KEYROLL_KEYS_FILE, or stacks/keys.yaml */
  readonly file?: string;
}

const err = (line: string) => process.stderr.write(`${line}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerDevicesCommand(program: Command): void {
  program
    .command('devices')
    .description("Publish simulated device readings to a tenant's IoT consumer topics, and show each second what the rules delivered, by status.")
    .option('--tenant <tenant>', "tenant whose consumer topics to publish to (default: the keys file's only tenant with consumers)")
    .option('--rate <n/s>', 'readings per second, across all its topics (default: 1 per topic)', parseRate)
    .option('--duration <seconds>', 'stop after this many seconds (default: at Ctrl-C)', parseDuration)
    .option('--devices <n>', 'simulated devices per topic', parseDeviceCount, 3)
    .option('--file <path>', 'the keys file that declares the consumers (default: KEYROLL_KEYS_FILE, or stacks/keys.yaml)')
    .action(devicesCommand);
}

export async function devicesCommand(options: DevicesOptions): Promise<void> {
  // First, so a Ctrl-C while looking things up still ends in the summary's place, not mid-call.
  const interrupt = listenForInterrupt();
  try {
    const file = keysFilePath(options.file);
    const relative = path.relative(process.cwd(), file);
    const { tenant, consumers: declared } = declaredConsumers(relative.startsWith('..') ? file : relative, options.tenant);
    const target = await resolveIotTarget();
    try {
      const { consumers, notes } = await deployedConsumers(target.iot, declared, target.deployCommand);
      for (const note of notes) err(note);
      // A destination that is not ENABLED explains every "not sent" to come; say so up front.
      const states = await destinationStates(target.iot, consumers.flatMap((consumer) => consumer.destinationUrls)).catch(() => []);
      for (const problem of destinationProblems(states)) err(problem);

      const filters = [...new Set(consumers.map((consumer) => consumer.topic))];
      const rate = options.rate ?? filters.length;
      const fleet = new DeviceFleet({
        data: target.data,
        consumers,
        rate,
        devices: options.devices,
        emulatorEndpoint: target.emulatorEndpoint,
        onSecond: (second) => err(secondLine(second)),
        onProblem: err,
      });
      const until = options.duration ? `for ${options.duration} s` : 'until Ctrl-C';
      err(`Tenant ${tenant}: publishing ${rate} readings/s as ${options.devices ?? 3} devices per topic to ${filters.join(', ')} on ${target.description}, ${until}.`);
      if (!target.emulatorEndpoint) err(AWS_DELIVERIES_UNOBSERVABLE);
      await fleet.start();
      let timer: NodeJS.Timeout | undefined;
      const elapsed = options.duration ? new Promise<void>((resolve) => (timer = setTimeout(resolve, options.duration! * 1000))) : new Promise<never>(() => undefined);
      await Promise.race([interrupt.received, elapsed]);
      clearTimeout(timer);
      for (const line of summaryLines(await fleet.stop(), filters.length)) out(line);
    } finally {
      target.destroy();
    }
  } finally {
    interrupt.stop();
  }
}
