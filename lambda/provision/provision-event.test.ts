import { ProvisionError } from './errors';
import { parseProvisionEvent } from './provision-event';

const input = { tenant: 'acme', name: 'sensors', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf', specDigest: 'd1' };

describe('parseProvisionEvent', () => {
  it('splits the tf key from the input, as the AWS provider sends it', () => {
    expect(parseProvisionEvent({ ...input, tf: { action: 'create', prev_input: null } })).toEqual({ action: 'create', input });
    expect(parseProvisionEvent({ ...input, specDigest: 'd2', tf: { action: 'update', prev_input: input } })).toEqual({
      action: 'update',
      input: { ...input, specDigest: 'd2' },
      previousInput: input,
    });
  });

  it.each([
    [{ ...input, secretArn: 'k', tf: { action: 'create', prev_input: null } }, /`input\.secretArn` must be the ARN/],
    [{ ...input, tenant: undefined, tf: { action: 'create' } }, /`input\.tenant` is required/],
    [{ ...input, extra: 1, tf: { action: 'create' } }, /`input` has unknown field\(s\) `extra`/],
    [{ ...input, tf: { action: 'read' } }, /`tf\.action` must be one of create, update, delete/],
    [{ ...input, tf: { action: 'update', prev_input: { tenant: 'acme' } } }, /`tf\.prev_input\.name` is required/],
    [input, /no `tf` key.*lifecycle_scope = "CRUD"/],
    ['create', /not a JSON object/],
  ])('refuses a malformed event with INVALID_EVENT naming the field (%#)', (event, message) => {
    let caught: unknown;
    try {
      parseProvisionEvent(event);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProvisionError);
    expect(caught).toMatchObject({ code: 'INVALID_EVENT', message: expect.stringMatching(message) });
  });
});
