/**
 * The event `aws_lambda_invocation` sends with `lifecycle_scope = "CRUD"`: the declared input plus
 * a `tf` key naming the action and carrying the previous input.
 * See https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/lambda_invocation
 */
import { z } from 'zod';
import { isKeyrollError } from '../errors';
import { parseInput } from '../validation';
import { provisionErrors } from './errors';
import { type ProvisionInput, provisionInputSchema } from './key-spec';

export const PROVISION_ACTIONS = ['create', 'update', 'delete'] as const;
export type ProvisionAction = (typeof PROVISION_ACTIONS)[number];

export interface ProvisionEvent {
  readonly action: ProvisionAction;
  readonly input: ProvisionInput;
  /** The input of the last successful apply; absent on create. */
  readonly previousInput?: ProvisionInput;
}

/** The provider's default `terraform_key`. */
const TF_KEY = 'tf';

const tfSchema = z.object({
  action: z.enum(PROVISION_ACTIONS, {
    error: `must be one of ${PROVISION_ACTIONS.join(', ')}; set lifecycle_scope = "CRUD" and keep terraform_key = "tf"`,
  }),
  // The input of the last apply as the provider stored it: null on create, checked like the input otherwise.
  prev_input: z.unknown().optional(),
});

/** Parses an invocation event or throws INVALID_EVENT naming each offending field. */
export function parseProvisionEvent(event: unknown): ProvisionEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw provisionErrors.invalidEvent('the event is not a JSON object.');
  }
  const { [TF_KEY]: tf, ...input } = event as Record<string, unknown>;
  if (tf === undefined) {
    throw provisionErrors.invalidEvent(
      'it has no `tf` key, so the action (create, update or delete) is unknown.',
      'Invoke the provisioner through aws_lambda_invocation with lifecycle_scope = "CRUD" and the default terraform_key ("tf").',
    );
  }
  const meta = parse(tfSchema, tf, TF_KEY);
  const previous = meta.prev_input ?? undefined;
  return {
    action: meta.action,
    input: parse(provisionInputSchema, input, 'input'),
    ...(previous === undefined || meta.action === 'create' ? {} : { previousInput: parse(provisionInputSchema, previous, `${TF_KEY}.prev_input`) }),
  };
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  try {
    return parseInput(schema, value, where);
  } catch (error) {
    if (isKeyrollError(error)) throw provisionErrors.invalidEvent(error.message);
    throw error;
  }
}
