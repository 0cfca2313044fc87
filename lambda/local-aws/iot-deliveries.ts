/** Reads the local emulator's record of IoT rule deliveries (GET /keyroll-local/iot/deliveries); see iot_deliveries.py. */

/** One run of one rule action on one message. Header values are never recorded, only their names. */
export interface IotDelivery {
  /** Increases by one per record, across rules: pass the last one seen as `since` to get only newer ones. */
  readonly seq: number;
  readonly ruleName: string;
  /** The topic the message was published to. */
  readonly topic: string;
  /** `http`, `republish`, or the type of an action the emulator does not run. */
  readonly action: string;
  /**
   * `delivered`: a 2xx answer (or republished). `failed`: sent, but no 2xx after the retries.
   * `not-sent`: refused before sending, for example no ENABLED destination or an unreadable secret.
   */
  readonly result: 'delivered' | 'failed' | 'not-sent';
  /** The last HTTP status answered; absent when nothing answered or nothing was sent. */
  readonly status?: number;
  /** Tries made: at most 3, and more than 1 only after a 429, a 5xx or no answer. */
  readonly attempts: number;
  /** The rules-engine node (0-3) that ran it; each node caches secrets on its own. */
  readonly node: number;
  /** The URL sent to, for HTTP actions, after substitution. */
  readonly url?: string;
  /** The topic republished to, for republish actions. */
  readonly targetTopic?: string;
  /** True for the rule's errorAction, run because another action of the rule failed. */
  readonly errorAction: boolean;
  readonly headerNames: readonly string[];
  /** Why it was not delivered: a stable code (such as DESTINATION_NOT_ENABLED, HTTP_STATUS) and a message. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly accountId: string;
  readonly region: string;
  /** ISO 8601 time the run ended. */
  readonly at: string;
}

export interface IotDeliveryQuery {
  /** Only this rule's deliveries. */
  readonly rule?: string;
  /** Only records with a greater `seq`. @default 0 */
  readonly since?: number;
  /** At most this many, the newest. @default all kept (the emulator keeps the last 1000) */
  readonly limit?: number;
}

/**
 * The emulator's recent deliveries, oldest first.
 *
 * @example
 * const recent = await readIotDeliveries(aws.endpoint, { rule: 'acme_telemetry_ingest' });
 */
export async function readIotDeliveries(endpoint: string, query: IotDeliveryQuery = {}): Promise<IotDelivery[]> {
  const params = new URLSearchParams();
  if (query.rule !== undefined) params.set('rule', query.rule);
  if (query.since !== undefined) params.set('since', String(query.since));
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  const url = `${endpoint}/keyroll-local/iot/deliveries${params.size > 0 ? `?${params}` : ''}`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { deliveries: IotDelivery[] }).deliveries;
}
