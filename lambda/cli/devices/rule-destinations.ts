/**
 * The topic rule destinations of the consumers' HTTP actions, and their status: IoT sends a rule's
 * message only while the destination of its confirmation URL is ENABLED, and drops it silently
 * otherwise, so this is what to check when readings go nowhere.
 */
import { type IoTClient, ListTopicRuleDestinationsCommand, type TopicRuleDestinationSummary } from '@aws-sdk/client-iot';

export interface DestinationState {
  /** The action's confirmation URL (its url when it names none). */
  readonly url: string;
  readonly arn?: string;
  /** ENABLED, IN_PROGRESS, DISABLED, ERROR, DELETING; absent when no destination covers the URL. */
  readonly status?: string;
  readonly statusReason?: string;
}

/**
 * The destination covering each URL: the one whose confirmation URL equals it, else the longest
 * that prefixes it (AWS's rule: "the confirmation URL must be a prefix of the rule's URL").
 * @throws what ListTopicRuleDestinations throws (no permission, for one)
 */
export async function destinationStates(iot: IoTClient, urls: readonly string[]): Promise<DestinationState[]> {
  const all: TopicRuleDestinationSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await iot.send(new ListTopicRuleDestinationsCommand({ nextToken }));
    all.push(...(page.destinationSummaries ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return [...new Set(urls)].map((url) => {
    const covering = all
      .filter((destination) => url.startsWith(destination.httpUrlSummary?.confirmationUrl ?? '\0'))
      .sort((a, b) => (b.httpUrlSummary?.confirmationUrl?.length ?? 0) - (a.httpUrlSummary?.confirmationUrl?.length ?? 0))[0];
    if (!covering) return { url };
    return { url, arn: covering.arn, status: covering.status, ...(covering.statusReason ? { statusReason: covering.statusReason } : {}) };
  });
}

export interface WaitOptions {
  /** @default 30000 (the issue's bound for a service started after the deploy) */
  readonly timeoutMs?: number;
  /** @default 250 */
  readonly intervalMs?: number;
  /** Ends the wait early, with the states seen last. */
  readonly signal?: AbortSignal;
}

/** Polls until every URL's destination is ENABLED, or the time is up; returns the last states seen. */
export async function waitForEnabledDestinations(iot: IoTClient, urls: readonly string[], options: WaitOptions = {}): Promise<DestinationState[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const states = await destinationStates(iot, urls);
    if (states.every((state) => state.status === 'ENABLED') || Date.now() >= deadline || options.signal?.aborted) return states;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}

/** One line per destination that is not ENABLED: what it is, and what fixes it. */
export function destinationProblems(states: readonly DestinationState[]): string[] {
  return states
    .filter((state) => state.status !== 'ENABLED')
    .map((state) =>
      state.status === undefined
        ? `No topic rule destination covers ${state.url}, so IoT sends nothing there. Deploy the platform stack, which creates it.`
        : `The topic rule destination for ${state.url} is ${state.status}${state.statusReason ? ` (${state.statusReason.replace(/\.$/, '')})` : ''}; IoT sends nothing there until it is ENABLED. The key service confirms its own when it starts: start (or restart) it (\`npx keyroll serve\`) on the port of that URL.`,
    );
}
