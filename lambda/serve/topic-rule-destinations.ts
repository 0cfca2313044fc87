/**
 * The key service's side of IoT topic rule destinations: it confirms the destination of its own
 * telemetry URL when IoT sends the confirmation, and, on start-up, asks IoT to send a fresh one for
 * any of its own destinations not yet ENABLED (a service started after the deploy missed the first).
 * Without an ENABLED destination AWS drops every HTTP action's message to the URL.
 */
import {
  ConfirmTopicRuleDestinationCommand,
  IoTClient,
  ListTopicRuleDestinationsCommand,
  type TopicRuleDestinationSummary,
  UpdateTopicRuleDestinationCommand,
} from '@aws-sdk/client-iot';
import type { Logger } from '@aws-lambda-powertools/logger';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { isOwnTelemetryUrl, judgeConfirmation } from '../telemetry/destination-confirmation';

export interface TopicRuleDestinationsOptions {
  /** The URL IoT rules post telemetry to; only its destinations are re-confirmed at start-up. */
  readonly telemetryUrl: string;
  /** @default new IoTClient({ maxAttempts: 3 }) */
  readonly iot?: IoTClient;
  /** The service's account. @default KEYROLL_ACCOUNT_ID, else sts:GetCallerIdentity (no permission needed) */
  readonly accountId?: string;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}

export type ConfirmationOutcome = { readonly confirmed: true; readonly arn: string } | { readonly confirmed: false; readonly reason: string };

export class TopicRuleDestinations {
  private readonly iot: IoTClient;
  private accountId: Promise<string> | undefined;

  constructor(private readonly options: TopicRuleDestinationsOptions) {
    this.iot = options.iot ?? new IoTClient({ maxAttempts: 3 });
    if (options.accountId ?? process.env.KEYROLL_ACCOUNT_ID) this.accountId = Promise.resolve((options.accountId ?? process.env.KEYROLL_ACCOUNT_ID)!);
  }

  /** Confirms and enables the destination a confirmation request names, if it is this service's. */
  async confirm(body: unknown): Promise<ConfirmationOutcome> {
    const verdict = judgeConfirmation(body, { accountId: await this.ownAccount(), region: await this.iot.config.region() });
    if (!verdict.accept) {
      this.options.logger.warn('refused a topic rule destination confirmation', { reason: verdict.reason });
      return { confirmed: false, reason: verdict.reason };
    }
    const { arn, confirmationToken } = verdict.confirmation;
    try {
      await this.iot.send(new ConfirmTopicRuleDestinationCommand({ confirmationToken }));
    } catch (error) {
      // Anyone can send a confirmation: a token IoT does not know is the sender's mistake, not ours
      // (no 5xx, no error log per request). IoT's own failures stay failures.
      if (!isClientError(error)) throw error;
      const reason = `IoT did not accept its confirmation token (${(error as Error).name})`;
      this.options.logger.warn('refused a topic rule destination confirmation', { arn, reason });
      return { confirmed: false, reason };
    }
    // A confirmed destination is DISABLED until enabled (AWS: "you can only enable a destination
    // that's in DISABLED status"); enabling one already ENABLED changes nothing.
    await this.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status: 'ENABLED' }));
    this.options.logger.info('confirmed and enabled the topic rule destination of this service', { arn });
    return { confirmed: true, arn };
  }

  /**
   * Asks IoT for a fresh confirmation of each of this service's destinations that is not ENABLED.
   * Needs iot:ListTopicRuleDestinations, which the deployed service's role does not have (in AWS the
   * service runs before any rule exists and confirms each destination as it is created): there it
   * does nothing. Never throws; returns how many it asked for.
   */
  async requestFreshConfirmations(): Promise<number> {
    let destinations: TopicRuleDestinationSummary[];
    try {
      destinations = await this.listAll();
    } catch (error) {
      this.options.logger.info('not re-confirming topic rule destinations: cannot list them', { error: describe(error) });
      return 0;
    }
    const pending = destinations.filter(
      (destination) =>
        destination.status !== 'ENABLED' &&
        destination.status !== 'DELETING' &&
        destination.arn &&
        isOwnTelemetryUrl(destination.httpUrlSummary?.confirmationUrl ?? '', this.options.telemetryUrl),
    );
    let asked = 0;
    for (const destination of pending) {
      try {
        // IN_PROGRESS makes IoT send a new confirmation request (and void the old token).
        await this.iot.send(new UpdateTopicRuleDestinationCommand({ arn: destination.arn, status: 'IN_PROGRESS' }));
        asked += 1;
      } catch (error) {
        this.options.logger.warn('could not ask for a fresh topic rule destination confirmation', { arn: destination.arn, error: describe(error) });
      }
    }
    if (asked > 0) this.options.logger.info('asked IoT to re-send destination confirmations', { count: asked, telemetryUrl: this.options.telemetryUrl });
    return asked;
  }

  private async listAll(): Promise<TopicRuleDestinationSummary[]> {
    const all: TopicRuleDestinationSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.iot.send(new ListTopicRuleDestinationsCommand({ nextToken }));
      all.push(...(page.destinationSummaries ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return all;
  }

  private ownAccount(): Promise<string> {
    this.accountId ??= new STSClient({ maxAttempts: 3 }).send(new GetCallerIdentityCommand({})).then(({ Account }) => {
      if (!Account) throw new Error('sts:GetCallerIdentity returned no account');
      return Account;
    });
    // A failed lookup is retried by the next confirmation.
    this.accountId.catch(() => (this.accountId = undefined));
    return this.accountId;
  }
}

function isClientError(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500 && (error as Error).name !== 'ThrottlingException';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
