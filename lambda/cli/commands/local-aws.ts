/** `keyroll local-aws [--port N]`: the emulator in the foreground until Ctrl-C. */
import { startLocalAws } from '../../local-aws';
import { untilInterrupted } from '../until-interrupted';

export async function localAwsCommand(options: { port: number }): Promise<void> {
  const localAws = await startLocalAws({ port: options.port });
  process.stderr.write(`Local AWS is listening at ${localAws.endpoint}\n`);
  process.stderr.write(`Point keyroll at it with: export AWS_ENDPOINT_URL=${localAws.endpoint}\n`);
  await untilInterrupted();
  await localAws.stop();
}
