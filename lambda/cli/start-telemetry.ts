/**
 * The telemetry `keyroll start` runs beside the guide: simulated devices publishing a reading a
 * second to each of the tenant's consumer topics, through the deployed IoT rules into the service.
 * Quiet while it runs (one line once every rule has delivered, one per kind of problem); Ctrl-C
 * gives the totals: deliveries by status, and the readings the key service accepted, per key.
 */
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { keysFilePath } from '../../stacks/keys/keys-file-check';
import { ApiClient } from './api-client';
import { type ConsumerTopic, DeviceFleet, declaredConsumers, deployedConsumers, destinationProblems, summaryLines, waitForEnabledDestinations } from './devices';

export interface StartTelemetryOptions {
  readonly emulatorEndpoint: string;
  readonly tenant: string;
  /** The key service, and a key of the tenant that may list its keys (the owner key). */
  readonly serviceUrl: string;
  readonly ownerKey: string;
  /** Writes the service's pending usage counts, so the per-key counts include the last readings. */
  readonly flushUsage: () => Promise<void>;
  readonly say: (line: string) => void;
  /** How long to wait for the rules' destinations to be ENABLED. @default 30000 */
  readonly destinationTimeoutMs?: number;
  /** Aborted (Ctrl-C during start-up): no fleet is started, and the wait ends. */
  readonly signal?: AbortSignal;
}

/** Readings per second per consumer topic: enough to see it flow, little enough to read around. */
const READINGS_PER_TOPIC_PER_SECOND = 1;
const DEVICES_PER_TOPIC = 3;
/** Not `dev-`: a `keyroll devices` run beside it then counts only its own readings, and so does this. */
const DEVICE_ID_PREFIX = 'demo-';
const INDENT = '  ';

export class StartTelemetry {
  private constructor(
    private readonly options: StartTelemetryOptions,
    private readonly fleet: DeviceFleet,
    /** The distinct topic filters published to. */
    readonly topics: readonly string[],
    readonly consumers: readonly ConsumerTopic[],
    private readonly clients: { destroy(): void }[],
  ) {}

  /**
   * Finds the consumers and waits for their destinations to be ENABLED (or for the wait to be up,
   * which is said with the fix); {@link begin} then publishes. Undefined, with a line saying why,
   * when there is nothing to publish to: start goes on without telemetry rather than fail over it.
   */
  static async prepare(options: StartTelemetryOptions): Promise<StartTelemetry | undefined> {
    const iot = new IoTClient({ endpoint: options.emulatorEndpoint });
    const data = new IoTDataPlaneClient({ endpoint: options.emulatorEndpoint });
    const clients = [iot, data];
    try {
      const { consumers: declared } = declaredConsumers(keysFilePath(), options.tenant);
      const { consumers, notes } = await deployedConsumers(iot, declared, 'npm run deploy:local');
      for (const note of notes) options.say(note);
      const states = await waitForEnabledDestinations(iot, consumers.flatMap((consumer) => consumer.destinationUrls), {
        timeoutMs: options.destinationTimeoutMs,
        signal: options.signal,
      });
      if (options.signal?.aborted) {
        for (const client of clients) client.destroy();
        return undefined;
      }
      for (const problem of destinationProblems(states)) options.say(problem);
      const topics = [...new Set(consumers.map((consumer) => consumer.topic))];
      const waiting = new Set(consumers.map((consumer) => consumer.ruleName));
      const fleet = new DeviceFleet({
        data,
        consumers,
        rate: READINGS_PER_TOPIC_PER_SECOND * topics.length,
        devices: DEVICES_PER_TOPIC,
        deviceIdPrefix: DEVICE_ID_PREFIX,
        emulatorEndpoint: options.emulatorEndpoint,
        onProblem: (line) => options.say(`Telemetry: ${line}`),
        onFirstDelivery: (ruleName) => {
          waiting.delete(ruleName);
          if (waiting.size === 0) options.say(`Telemetry is flowing: ${consumers.map((consumer) => consumer.ruleName).join(' and ')} delivered to the key service (2xx).`);
        },
      });
      return new StartTelemetry(options, fleet, topics, consumers, clients);
    } catch (error) {
      for (const client of clients) client.destroy();
      options.say(`No simulated telemetry: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /** The guide's line about it. */
  get description(): string {
    const rules = this.consumers.map((consumer) => consumer.ruleName).join(', ');
    return `Simulated devices publish ${READINGS_PER_TOPIC_PER_SECOND} reading/s to each of ${this.topics.join(', ')} (no deviceId: the rules ${rules} take it from the topic); Ctrl-C prints what arrived.`;
  }

  /** Whether the fleet started. */
  private started: Promise<boolean> | undefined;
  private stopping: Promise<string[]> | undefined;

  /** Starts publishing; called after the guide, so the first lines about it come below it. */
  begin(): Promise<void> {
    this.started ??= this.fleet.start().then(
      () => true,
      (error: unknown) => {
        this.options.say(`Telemetry: could not start the simulated devices: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
    );
    return this.started.then(() => undefined);
  }

  /** Stops publishing, and returns the summary. Safe to call more than once. */
  stop(): Promise<string[]> {
    return (this.stopping ??= this.summarise());
  }

  private async summarise(): Promise<string[]> {
    try {
      if (!this.started || !(await this.started)) return [];
      const totals = await this.fleet.stop();
      const lines = summaryLines(totals, this.topics.length).map((line, i) => (i === 0 ? `Telemetry: ${line.charAt(0).toLowerCase()}${line.slice(1)}` : `${INDENT}${line}`));
      return [...lines, ...(await this.acceptedPerKey())];
    } finally {
      for (const client of this.clients) client.destroy();
    }
  }

  /**
   * The readings the key service accepted from each consumer's key: its requests without an error,
   * as the service counts them (one reading per request from an IoT rule). Read through the API
   * with the owner key, after the service has written its pending counts.
   */
  private async acceptedPerKey(): Promise<string[]> {
    const names = [...new Set(this.consumers.map((consumer) => consumer.keyName))];
    let keys: KeyCounts[];
    try {
      await this.options.flushUsage();
      keys = await listKeys(new ApiClient({ url: this.options.serviceUrl, key: this.options.ownerKey }), this.options.tenant);
    } catch (error) {
      return [`${INDENT}Accepted readings per key: unavailable (${error instanceof Error ? error.message : String(error)}).`];
    }
    const rows = names.flatMap((name) => {
      const found = keys.filter((key) => key.name === name);
      return found.length > 0 ? found.map((key) => [name, key.id, String(key.requestCount - key.errorCount)]) : [[name, '(not found)', '0']];
    });
    const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column].length)));
    return [
      `${INDENT}Accepted by the key service, per key (requests without an error; one reading each):`,
      ...rows.map(([name, id, accepted]) => `${INDENT}${INDENT}${name.padEnd(widths[0])}  ${id.padEnd(widths[1])}  ${accepted}`),
    ];
  }
}

interface KeyCounts {
  readonly id: string;
  readonly name: string;
  readonly requestCount: number;
  readonly errorCount: number;
}

async function listKeys(api: ApiClient, tenant: string): Promise<KeyCounts[]> {
  const keys: KeyCounts[] = [];
  let cursor: string | null = null;
  do {
    const page: { keys: KeyCounts[]; nextCursor: string | null } = await api.request('GET', `/v1/tenants/${tenant}/api-keys?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    keys.push(...page.keys);
    cursor = page.nextCursor;
  } while (cursor);
  return keys;
}
