/**
 * What the rotation Lambda is invoked with: Secrets Manager's rotation step events, the schedule's
 * sweep, and the CLI's status request. Anything else is refused with what it should look like.
 */
import { z } from 'zod';
import { tenantSchema } from '../keys/key-input';
import { ROTATION_STEPS, type RotationStep } from './rotation-plan';

const stepEventSchema = z.object({
  Step: z.enum(ROTATION_STEPS as [string, ...string[]]),
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
  RotationToken: z.string().optional(),
});

const sweepEventSchema = z.strictObject({ keyroll: z.literal('sweep') });
const statusEventSchema = z.strictObject({ keyroll: z.literal('status'), tenant: tenantSchema });

export type RotationEvent =
  | { readonly kind: 'step'; readonly step: RotationStep; readonly secretId: string; readonly token: string }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'status'; readonly tenant: string };

export class InvalidRotationEventError extends Error {
  readonly code = 'INVALID_EVENT';
}

export function parseRotationEvent(event: unknown): RotationEvent {
  const step = stepEventSchema.safeParse(event);
  if (step.success) return { kind: 'step', step: step.data.Step as RotationStep, secretId: step.data.SecretId, token: step.data.ClientRequestToken };
  if (sweepEventSchema.safeParse(event).success) return { kind: 'sweep' };
  const status = statusEventSchema.safeParse(event);
  if (status.success) return { kind: 'status', tenant: status.data.tenant };
  throw new InvalidRotationEventError(
    'keyroll-rotation takes Secrets Manager rotation events ({Step, SecretId, ClientRequestToken}), {"keyroll": "sweep"} from its schedule, ' +
      'or {"keyroll": "status", "tenant": "<tenant>"}; it got something else. Configure rotation with `rotation:` in keys.yaml, or use `keyroll rotation sweep|status`.',
  );
}
