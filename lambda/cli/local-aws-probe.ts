/** The CLI's error for "no emulator answers there" (the probe itself is lambda/deploy-env/local-endpoint.ts). */
import { noLocalAwsMessage } from '../deploy-env/local-endpoint';
import { CliError } from './cli-error';

export function noLocalAws(endpoint: string): CliError {
  return new CliError('LOCAL_AWS_UNREACHABLE', noLocalAwsMessage(endpoint));
}
