/**
 * One local-defaults rule for every command: with only AWS_ENDPOINT_URL set to a loopback
 * endpoint (as the README's steps leave a shell), `keyroll serve`, `bootstrap` and `status` work;
 * the region and test credentials default as they do for deploys.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { closedPort, type Run, runProcess } from '../support/child-process';
import { uniqueTables } from '../support/service-harness';

const BIN = path.join(__dirname, '..', '..', 'lambda', 'cli', 'bin.cjs');
const tables = uniqueTables();

/** This machine's environment with no AWS settings but the emulator's endpoint (and no ~/.aws to fall back on). */
function onlyEndpoint(endpoint = process.env.AWS_ENDPOINT_URL!): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  return {
    ...env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    KEYROLL_KEYS_TABLE: tables.keys,
    KEYROLL_RATE_LIMITS_TABLE: tables.rateLimits,
    KEYROLL_TELEMETRY_TABLE: tables.telemetry,
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
}


function keyroll(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return runProcess(process.execPath, [BIN, ...args], { env });
}

describe('with only AWS_ENDPOINT_URL set', () => {
  it('keyroll bootstrap creates the owner key', async () => {
    const run = await keyroll(['bootstrap', '--tenant', 'defaults'], onlyEndpoint());
    expect(run.stderr).not.toMatch(/Region is missing|Could not load credentials/);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(new RegExp(`^${KEY_PATTERN.source}$`));
  });

  it('keyroll serve serves, and verifies a key against the emulator', async () => {
    const owner = (await keyroll(['bootstrap', '--tenant', 'defaults'], onlyEndpoint())).stdout.trim();
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: onlyEndpoint(), stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /serving at (http:\/\/\S+)/.exec(stderr);
          if (match) resolve(match[1]);
        });
        child.once('exit', () => reject(new Error(`serve exited early:\n${stderr}`)));
      });
      const whoami = await fetch(`${url}/v1/whoami`, { headers: { 'x-api-key': owner } });
      expect(whoami.status).toBe(200);
      expect(await whoami.json()).toMatchObject({ tenant: 'defaults', permissions: ['*'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/Region is missing|Could not load credentials/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('keyroll status reports the emulator and exits 0', async () => {
    const run = await keyroll(['status'], { ...onlyEndpoint(), KEYROLL_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Local AWS\\s+${process.env.AWS_ENDPOINT_URL!.replace(/[.:/]/g, '\\$&')} \\(AWS_ENDPOINT_URL\\): up$`, 'm'));
    expect(run.stdout).toMatch(/^Service\s+http:\/\/127\.0\.0\.1:\d+ \(KEYROLL_URL\): not answering/m);
  });

  it('says how to start an emulator when none answers there, instead of retrying into ECONNREFUSED', async () => {
    const port = await closedPort();
    for (const args of [['serve', '--port', '0'], ['bootstrap', '--tenant', 'defaults']]) {
      const run = await keyroll(args, onlyEndpoint(`http://127.0.0.1:${port}`));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`keyroll: LOCAL_AWS_UNREACHABLE: No local AWS answers at http://127.0.0.1:${port}. Start one there with \`npx keyroll local-aws --port ${port}\``);
    }
  });
});
