/** `keyroll local-aws [--port N]`: the emulator in the foreground until Ctrl-C. */
import { startLocalAws } from '../../local-aws';
import { clearLocalState } from '../../deploy-env/keyroll-dirs';
import { untilInterrupted } from '../until-interrupted';

export async function localAwsCommand(options: { port: number }): Promise<void> {
  const localAws = await startLocalAws({ port: options.port });
  // The emulator starts empty: Terraform state from an earlier one on this port would describe
  // resources that no longer exist (and invocations Terraform would never re-run), so deploys to
  // it start over. Only now: the port was free, so no other emulator's state is in that folder.
  const cleared = clearLocalState(localAws.port);
  if (cleared) process.stderr.write(`Cleared the previous emulator's Terraform state (${cleared}).\n`);
  process.stderr.write(`Local AWS is listening at ${localAws.endpoint}\n`);
  process.stderr.write(`Point keyroll at it with: export AWS_ENDPOINT_URL=${localAws.endpoint}\n`);
  await untilInterrupted();
  await localAws.stop();
  // It kept nothing: neither does the state that described it.
  clearLocalState(localAws.port);
}
