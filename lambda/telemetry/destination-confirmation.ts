/**
 * IoT Core's topic-rule destination confirmation, as the key service receives it. AWS delivers an
 * HTTP action only to a confirmed (ENABLED) destination, and confirms one by POSTing to its URL
 * with `x-amz-rules-engine-message-type: DestinationConfirmation` and `{arn, confirmationToken,
 * enableUrl}`. Pure: which confirmations the service may accept is decided here, I/O elsewhere.
 * See https://docs.aws.amazon.com/iot/latest/developerguide/rule-destination.html
 */
import { z } from 'zod';

export const CONFIRMATION_HEADER = 'x-amz-rules-engine-message-type';
export const CONFIRMATION_MESSAGE_TYPE = 'DestinationConfirmation';

const confirmationSchema = z.looseObject({
  arn: z.string().max(2048),
  confirmationToken: z.string().min(1).max(4096),
  enableUrl: z.string().max(4096).optional(),
});
export type DestinationConfirmation = z.infer<typeof confirmationSchema>;

/** `arn:aws:iot:<region>:<account>:ruledestination/http/<id>` */
const DESTINATION_ARN = /^arn:aws[a-z-]*:iot:([a-z0-9-]+):(\d{12}):ruledestination\/http\/[A-Za-z0-9-]+$/;

export interface OwnPlace {
  readonly accountId: string;
  readonly region: string;
}

export type ConfirmationVerdict = { readonly accept: true; readonly confirmation: DestinationConfirmation } | { readonly accept: false; readonly reason: string };

/**
 * Accepts only an HTTP destination of the service's own account and region. That the destination's
 * URL is the service's own telemetry URL is shown by where the request arrived: IoT sends it to
 * the destination's URL, and the service answers it on its telemetry route only.
 */
export function judgeConfirmation(body: unknown, own: OwnPlace): ConfirmationVerdict {
  const parsed = confirmationSchema.safeParse(body);
  if (!parsed.success) return { accept: false, reason: 'the body is not a destination confirmation ({arn, confirmationToken, enableUrl})' };
  const match = DESTINATION_ARN.exec(parsed.data.arn);
  if (!match) return { accept: false, reason: `\`${parsed.data.arn.slice(0, 200)}\` is not an HTTP topic rule destination ARN` };
  const [, region, accountId] = match;
  if (accountId !== own.accountId) return { accept: false, reason: `the destination belongs to account ${accountId}, not this service's (${own.accountId})` };
  if (region !== own.region) return { accept: false, reason: `the destination is in ${region}, not this service's region (${own.region})` };
  return { accept: true, confirmation: parsed.data };
}

/** Whether a destination's confirmation URL is the service's own telemetry URL (trailing slash aside). */
export function isOwnTelemetryUrl(url: string, ownTelemetryUrl: string): boolean {
  const normalise = (value: string) => value.replace(/\/+$/, '').toLowerCase();
  return normalise(url) === normalise(ownTelemetryUrl);
}
