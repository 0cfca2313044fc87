/**
 * Simulated devices: publishes readings to the consumers' topics through iot-data Publish at a
 * steady rate, and, on the emulator, reads back once a second what the rules engine did with them
 * (GET /keyroll-local/iot/deliveries), counted by outcome. AWS keeps no such record for a caller.
 */
import { type IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { type IotDelivery, readIotDeliveries } from '../../local-aws/iot-deliveries';
import type { ConsumerTopic } from './consumer-topics';
import { noOutcomes, type Outcome, type OutcomeCounts, outcomeOf } from './delivery-counts';
import { deviceIds, deviceTopic, simulatedReading } from './device-topics';

export interface DeviceFleetOptions {
  readonly data: IoTDataPlaneClient;
  readonly consumers: readonly ConsumerTopic[];
  /** Readings per second, across all topics (each topic gets an even share). */
  readonly rate: number;
  /** Devices per topic. @default 3 */
  readonly devices?: number;
  /**
   * Device ids are `<prefix>1` … `<prefix>N`. Two fleets with different prefixes publish to
   * different topics, so each counts only its own deliveries. @default 'dev-'
   */
  readonly deviceIdPrefix?: string;
  /** The emulator whose deliveries are read; without it (AWS) only publishes are counted. */
  readonly emulatorEndpoint?: string;
  /** Once a second, with what happened in it. */
  readonly onSecond?: (second: SecondReport) => void;
  /** Each kind of problem once (a publish error, a refused delivery), worded with the fix. */
  readonly onProblem?: (line: string) => void;
  /** The first 2xx delivery of each rule. */
  readonly onFirstDelivery?: (ruleName: string) => void;
}

export interface SecondReport {
  readonly at: Date;
  readonly published: number;
  readonly publishFailed: number;
  /** Deliveries recorded during the second; absent when they cannot be observed (AWS). */
  readonly deliveries?: OutcomeCounts;
}

export interface RuleTotals {
  readonly consumer: ConsumerTopic;
  readonly deliveries: OutcomeCounts;
}

export interface FleetTotals {
  readonly seconds: number;
  readonly published: number;
  readonly publishFailed: number;
  /** Absent when deliveries cannot be observed (AWS). */
  readonly deliveries?: OutcomeCounts;
  readonly byRule?: readonly RuleTotals[];
  /** Deliveries the emulator dropped from its record (it keeps the last 1000) before they were read. */
  readonly unread: number;
}

/** Publishes in flight at most; past it the fleet falls behind its rate rather than pile up requests. */
const MAX_IN_FLIGHT = 64;
const PUBLISH_TICK_MS = 50;
/** How long stop() waits for the rules engine to finish with what was published. */
const DRAIN_MS = 3000;
const DRAIN_POLL_MS = 100;

interface Target {
  readonly topic: string;
  readonly filter: string;
  readonly deviceIndex: number;
}

export class DeviceFleet {
  private readonly targets: Target[];
  private readonly ownTopics: Set<string>;
  /** Per topic filter, the rules that read it: one published reading gives each a delivery. */
  private readonly rulesByFilter = new Map<string, string[]>();
  private readonly rules = new Map<string, { consumer: ConsumerTopic; counts: OutcomeCounts; delivered: boolean }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly problemsSeen = new Set<string>();
  private readonly total = { published: 0, publishFailed: 0, deliveries: noOutcomes(), unread: 0, expected: 0, seen: 0 };
  private second = { published: 0, publishFailed: 0, deliveries: noOutcomes() };
  private startedAt = 0;
  private issued = 0;
  private seconds = 0;
  private lastSeq = 0;
  private publishTimer: NodeJS.Timeout | undefined;
  private secondTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: DeviceFleetOptions) {
    if (!(options.rate > 0)) throw new Error('rate must be above 0');
    const ids = deviceIds(options.devices ?? 3, options.deviceIdPrefix);
    for (const consumer of options.consumers) {
      this.rules.set(consumer.ruleName, { consumer, counts: noOutcomes(), delivered: false });
      this.rulesByFilter.set(consumer.topic, [...(this.rulesByFilter.get(consumer.topic) ?? []), consumer.ruleName]);
    }
    const filters = [...this.rulesByFilter.keys()];
    // Filter by filter within each device, so every topic gets its share from the first second.
    this.targets = ids.flatMap((id, deviceIndex) => filters.map((filter) => ({ topic: deviceTopic(filter, id), filter, deviceIndex })));
    this.ownTopics = new Set(this.targets.map((target) => target.topic));
  }

  async start(): Promise<void> {
    if (this.options.emulatorEndpoint) {
      // Only what happens from now on: the record also holds earlier runs' deliveries.
      this.lastSeq = (await readIotDeliveries(this.options.emulatorEndpoint, { limit: 1 })).at(-1)?.seq ?? 0;
    }
    this.startedAt = Date.now();
    this.publishDue();
    this.publishTimer = setInterval(() => this.publishDue(), PUBLISH_TICK_MS);
    this.scheduleSecond();
  }

  /** Stops publishing, waits briefly for the rules engine to finish, and returns the totals. */
  async stop(): Promise<FleetTotals> {
    const stoppedAt = Date.now();
    this.stopped = true;
    clearInterval(this.publishTimer);
    clearTimeout(this.secondTimer);
    await Promise.all([...this.inFlight]);
    await this.polling;
    if (this.options.emulatorEndpoint) {
      const deadline = Date.now() + DRAIN_MS;
      await this.poll();
      while (this.total.seen < this.total.expected && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
        await this.poll();
      }
    }
    const observable = this.options.emulatorEndpoint !== undefined;
    return {
      // Publishing time: the wait for the last deliveries is not part of it.
      seconds: Math.round((stoppedAt - this.startedAt) / 100) / 10,
      published: this.total.published,
      publishFailed: this.total.publishFailed,
      unread: this.total.unread,
      ...(observable
        ? { deliveries: { ...this.total.deliveries }, byRule: [...this.rules.values()].map(({ consumer, counts }) => ({ consumer, deliveries: { ...counts } })) }
        : {}),
    };
  }

  private publishDue(): void {
    const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.options.rate) + 1;
    while (!this.stopped && this.issued < due && this.inFlight.size < MAX_IN_FLIGHT) {
      const sequence = this.issued++;
      const target = this.targets[sequence % this.targets.length];
      const published = this.publish(target, Math.floor(sequence / this.targets.length));
      this.inFlight.add(published);
      void published.finally(() => this.inFlight.delete(published));
    }
    // Behind (too many in flight): drop what is overdue instead of bursting to catch up later.
    if (this.issued < due - this.options.rate) this.issued = due;
  }

  private async publish(target: Target, round: number): Promise<void> {
    const payload = Buffer.from(JSON.stringify(simulatedReading(target.deviceIndex, round)));
    try {
      await this.options.data.send(new PublishCommand({ topic: target.topic, payload, qos: 0 }));
      this.second.published += 1;
      this.total.published += 1;
      this.total.expected += this.rulesByFilter.get(target.filter)?.length ?? 0;
    } catch (error) {
      this.second.publishFailed += 1;
      this.total.publishFailed += 1;
      const name = (error as Error).name;
      this.problem(`publish:${name}`, `Publishing to ${target.topic} failed: ${name}: ${(error as Error).message}`);
    }
  }

  private scheduleSecond(): void {
    this.seconds += 1;
    const at = this.startedAt + this.seconds * 1000;
    this.secondTimer = setTimeout(() => {
      this.polling = this.poll().then(() => {
        if (this.stopped) return;
        const { published, publishFailed, deliveries } = this.second;
        this.second = { published: 0, publishFailed: 0, deliveries: noOutcomes() };
        this.options.onSecond?.({ at: new Date(at), published, publishFailed, ...(this.options.emulatorEndpoint ? { deliveries } : {}) });
        this.scheduleSecond();
      });
    }, Math.max(0, at - Date.now()));
  }

  /** Reads the deliveries recorded since the last read into the counts. Never throws. */
  private async poll(): Promise<void> {
    const endpoint = this.options.emulatorEndpoint;
    if (!endpoint) return;
    let records: IotDelivery[];
    try {
      records = await readIotDeliveries(endpoint, { since: this.lastSeq });
    } catch (error) {
      this.problem('deliveries', `Cannot read the emulator's deliveries at ${endpoint} (${(error as Error).message}); is local AWS still running?`);
      return;
    }
    if (records.length === 0) return;
    // Sequence numbers have no gaps: a jump means the emulator's bounded record dropped some unread.
    if (records[0].seq > this.lastSeq + 1) {
      const unread = records[0].seq - this.lastSeq - 1;
      this.total.unread += unread;
      this.problem('unread', `The emulator keeps only its last 1000 deliveries, and ${unread} were gone before they were read: at this rate the counts are low. Use a lower --rate to count every one.`);
    }
    this.lastSeq = records.at(-1)!.seq;
    for (const record of records) {
      const rule = this.rules.get(record.ruleName);
      // Only this fleet's readings (the rules also run on other publishers' messages), and only
      // the consumers' own HTTP actions: an errorAction run repeats a failure already counted.
      if (!rule || !this.ownTopics.has(record.topic) || record.errorAction || record.action !== 'http') continue;
      const outcome = outcomeOf(record);
      rule.counts[outcome] += 1;
      this.second.deliveries[outcome] += 1;
      this.total.deliveries[outcome] += 1;
      this.total.seen += 1;
      if (outcome === '2xx' && !rule.delivered) {
        rule.delivered = true;
        this.options.onFirstDelivery?.(record.ruleName);
      }
      if (outcome !== '2xx') this.refused(record, outcome);
    }
  }

  private refused(record: IotDelivery, outcome: Outcome): void {
    const code = record.error?.code ?? outcome;
    const why = record.error?.message ?? (record.status ? `answered ${record.status}` : outcome);
    this.problem(`${record.ruleName}:${code}:${record.status ?? ''}`, `Rule ${record.ruleName}: ${outcome}${record.status ? ` (${record.status})` : ''}: ${why.replace(/\.$/, '')}.${hint(code, record)}`);
  }

  private problem(kind: string, line: string): void {
    if (this.problemsSeen.has(kind)) return;
    this.problemsSeen.add(kind);
    this.options.onProblem?.(line);
  }
}

function hint(code: string, record: IotDelivery): string {
  const port = record.url ? portOf(record.url) : undefined;
  const serve = port ? `\`npx keyroll serve --port ${port}\`` : '`npx keyroll serve`';
  if (code === 'DESTINATION_NOT_ENABLED' || code === 'NO_DESTINATION') {
    return ` The key service confirms its own destination when it starts: start (or restart) it on that URL's port, ${serve}.`;
  }
  if (code === 'CONNECTION_FAILED') return ` Is the key service running there? ${serve} starts it.`;
  if (record.status === 401 || record.status === 403) return " The key service refused the rule's key: check that the service uses the deployed tables and environment.";
  return '';
}

function portOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  } catch {
    return undefined;
  }
}
