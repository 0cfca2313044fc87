/** `keyroll local-aws [--port N]`: the emulator in the foreground until Ctrl-C. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startLocalAws } from '../../local-aws';
import { untilInterrupted } from '../until-interrupted';

export async function localAwsCommand(options: { port: number }): Promise<void> {
  const localAws = await startLocalAws({ port: options.port });
  // The emulator starts empty: Terraform state from an earlier one would describe resources that
  // no longer exist (and an invocation Terraform would never re-run), so `deploy:local` starts over.
  const localState = path.resolve(__dirname, '..', '..', '..', '.keyroll', 'state', 'local');
  if (fs.existsSync(localState)) {
    fs.rmSync(localState, { recursive: true, force: true });
    process.stderr.write('Cleared the previous emulator\'s Terraform state (.keyroll/state/local).\n');
  }
  process.stderr.write(`Local AWS is listening at ${localAws.endpoint}\n`);
  process.stderr.write(`Point keyroll at it with: export AWS_ENDPOINT_URL=${localAws.endpoint}\n`);
  await untilInterrupted();
  await localAws.stop();
}
