/**
 * The consumer writers' own errors (besides AWS_REQUEST_FAILED and the IoT rule's RULE_NOT_OWNED):
 * each names the consumer and says how to fix it. The rotation shows them in its status as the
 * reason a consumer could not be moved, so none may carry a credential (HandoutError redacts too).
 */
import { HandoutError } from '../errors';

export const consumerErrors = {
  /** `consumer`: how describe() names it; `why`: what makes it someone else's; `fix`: the way to hand it over or point elsewhere. */
  notOwned: (consumer: string, why: string, fix: string) =>
    new HandoutError('CONSUMER_NOT_OWNED', `${consumer} ${why}, so keyroll will not write a key into it or remove it. ${fix}`),
  functionNotFound: (functionName: string) =>
    new HandoutError(
      'CONSUMER_NOT_FOUND',
      `Lambda function ${functionName} does not exist (or is in another region or account), and keyroll writes a variable into a function, never creates one. ` +
        "Deploy the function first (keyroll's keys stack after the stack that creates it), or correct the consumer's functionName.",
    ),
  busy: (consumer: string, what: string) =>
    new HandoutError(
      'CONSUMER_BUSY',
      `${consumer} ${what}, so keyroll stopped rather than overwrite a change it has not seen. ` +
        'This passes once the other update finishes (e.g. a deploy of that function): re-run the apply, or let the rotation retry.',
    ),
  functionEnvironmentUnreadable: (functionName: string, reason: string) =>
    new HandoutError(
      'CONSUMER_UNREADABLE',
      `keyroll cannot read the environment variables of Lambda function ${functionName} (${reason}), and writing one variable means sending all of them back, so it changed nothing. ` +
        "If the function's variables are encrypted with a customer managed KMS key, allow the provisioner and rotation roles (keyroll-provisioner-role, keyroll-rotation-role) kms:Decrypt and kms:Encrypt on that key.",
    ),
};
