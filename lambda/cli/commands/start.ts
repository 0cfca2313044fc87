/**
 * `keyroll start` (the README's run command): the emulator, the example app deployed to it, the
 * service and a first admin key for tenant `acme`, all in one foreground process, then what to try.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalAws } from '../../local-aws';
import { startServer } from '../../serve/node-server';
import { ensureTablesIfLocal, useLocalAwsDefaults } from '../local-setup';
import { untilInterrupted } from '../until-interrupted';
import { bootstrapKey } from './bootstrap';
import { portFromEnv } from './serve';

const TENANT = 'acme';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Deploys the example app with the stacks' own runner, in a child process (cdktf stays in stacks/). */
function deployExampleApp(): Promise<void> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join(PROJECT_ROOT, 'stacks', 'deploy', 'main.ts'), 'deploy', '--local'], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    // This emulator lives only as long as this command: so does the state describing it.
    env: { ...process.env, KEYROLL_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-state-')) },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`Deploying the example app failed (exit ${code}); the output above says why. \`npx keyroll start --no-deploy\` starts without it.`)),
    );
  });
}

export async function startCommand(options: { deploy: boolean }): Promise<void> {
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say('Starting local AWS (moto) …');
  const localAws = await startLocalAws({ port: 0, quiet: true });
  try {
    useLocalAwsDefaults(localAws.endpoint);
    if (options.deploy) {
      say('Deploying the example app (stacks/keys.yaml) to it with cdktf; this takes a minute or two …');
      await deployExampleApp();
    }
    await ensureTablesIfLocal(say);
    const server = await startServer(portFromEnv());
    const { id, key } = await bootstrapKey({ tenant: TENANT, name: 'local owner' });
    say(`Local AWS:   ${localAws.endpoint}`);
    say(`keyroll:     ${server.url}`);
    say(`Owner key ${id} for tenant ${TENANT} (every permission, *), shown once:`);
    say(`  export KEY=${key}`);
    say();
    say('Try:');
    say(`  curl -s ${server.url}/v1/whoami -H "x-api-key: $KEY"`);
    say(`  curl -s ${server.url}/v1/tenants/${TENANT}/api-keys -H "x-api-key: $KEY" -H 'content-type: application/json' \\`);
    say(`    -d '{"name":"sensor fleet","environment":"production","permissions":["telemetry:write"]}'`);
    say(`  curl -s ${server.url}/v1/tenants/${TENANT}/api-keys -H "x-api-key: $KEY"`);
    if (options.deploy) {
      say();
      say('The deployed keys (stacks/keys.yaml) are in Secrets Manager as keyroll/acme/<name>; the list above shows them.');
      say(`  AWS_ENDPOINT_URL=${localAws.endpoint} npm run destroy:local   # revokes them`);
    }
    say();
    say('Press Ctrl-C to stop.');
    await untilInterrupted();
    await server.stop();
  } finally {
    await localAws.stop();
  }
}
