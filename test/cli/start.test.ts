/**
 * The README's run command (`npm start`, i.e. `node lambda/cli/bin.cjs start`) as a newcomer runs
 * it, in this checkout: twice in a row, each time following the commands it prints (as printed,
 * in a shell) while it runs and after Ctrl-C; the README's own emulator steps in between; and a
 * second start while one runs. Deploys are real (cdktf against the emulator npm start starts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localCdktfOutDir, localStateDir } from '../../lambda/deploy-env/keyroll-dirs';
import { RUN_FILE, readLiveRunFile, readRunFile } from '../../lambda/cli/run-file';
import { KEY_PATTERN, KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { launchChromium, newContext } from '../console/browser';

jest.setTimeout(300_000);

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'lambda', 'cli', 'bin.cjs');
const READY = 'Press Ctrl-C to stop.';

/** A shell as a newcomer has it: no AWS or keyroll settings (the test emulator's are removed). */
function newcomerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(AWS_|KEYROLL_)|^PORT$/.test(name)) delete env[name];
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    // The SDK's notice about Node 22 is the same on every run; it only makes failures harder to read.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

/** A foreground process whose output is watched. */
class Foreground {
  stdout = '';
  stderr = '';
  /** The exit code; a process killed by a signal (npm on Ctrl-C does that to itself) gives its name. */
  readonly exited: Promise<number | NodeJS.Signals | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? signal)));
  }

  /** Resolves when `text` has appeared; fails with the output so far if the process ends first. */
  async waitFor(text: string | RegExp, timeoutMs = 240_000): Promise<void> {
    const seen = () => (typeof text === 'string' ? (this.stdout + this.stderr).includes(text) : text.test(this.stdout + this.stderr));
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => (done = true));
    while (!seen()) {
      if (done || Date.now() > deadline) throw new Error(`${done ? 'exited' : 'timed out'} before ${String(text)}:\n${redact(this.stdout)}\n${redact(this.stderr)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Ctrl-C, as a terminal sends it (to the whole process group). */
  interrupt(): Promise<number | NodeJS.Signals | null> {
    signalGroup(this.child, 'SIGINT');
    return this.exited;
  }

  kill(): void {
    signalGroup(this.child, 'SIGKILL');
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Gone already.
  }
}

/** Never let a key reach the test's own output. */
function redact(text: string): string {
  return text.replace(KEY_PATTERN_GLOBAL, 'kr_…');
}

const running: Foreground[] = [];

function foreground(command: string, args: string[], env: NodeJS.ProcessEnv): Foreground {
  // Its own process group, like a terminal's foreground job, so Ctrl-C reaches what it started.
  const process_ = new Foreground(spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  running.push(process_);
  return process_;
}

function npmStart(env: NodeJS.ProcessEnv, args: string[] = []): Foreground {
  return foreground(process.execPath, [BIN, 'start', ...args], newcomerEnv(env));
}

/** A printed command, run as printed in a shell in the project folder. */
async function shell(command: string, env: NodeJS.ProcessEnv = {}, expected = 0): Promise<{ status: number | NodeJS.Signals | null; output: string }> {
  const run = foreground('sh', ['-c', command], newcomerEnv(env));
  const status = await run.exited;
  const output = run.stdout + run.stderr;
  if (status !== expected) throw new Error(`\`${redact(command)}\` exited ${status}, not ${expected}:\n${redact(output)}`);
  return { status, output };
}

async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await (await fetch(url, { signal: AbortSignal.timeout(2000) })).body?.cancel();
    return true;
  } catch {
    return false;
  }
}

interface Started {
  readonly url: string;
  readonly endpoint: string;
  readonly key: string;
  /** Every command line of the guide, continuation lines joined, comments removed. */
  readonly commands: string[];
}

/**
 * The console sign-in link npm start prints, followed in Chromium as a newcomer clicks it: it signs
 * in to the tenant's keys once, and is refused the second time.
 */
async function signInWithPrintedLink(stdout: string, serviceUrl: string): Promise<void> {
  const link = /^Console: {5}(http:\/\/\S+)$/m.exec(stdout)?.[1];
  if (!link) throw new Error(`npm start printed no console sign-in link:\n${redact(stdout)}`);
  expect(link.startsWith(`${serviceUrl}/console/sign-in/link?token=`)).toBe(true);
  const browser = await launchChromium();
  try {
    const context = await newContext(browser, serviceUrl);
    const page = await context.newPage();
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const keys = page.getByRole('table', { name: 'API keys' });
    await keys.getByRole('link', { name: 'telemetry-ingest', exact: true }).waitFor();
    await context.close();

    const again = await (await newContext(browser, serviceUrl)).newPage();
    await again.goto(link);
    await again.getByRole('button', { name: 'Sign in' }).click();
    await again.getByText('This sign-in link was already used or has expired').waitFor();
  } finally {
    await browser.close();
  }
}

function parseStarted(stdout: string): Started {
  const url = /^keyroll: {5}(http:\/\/\S+)/m.exec(stdout)?.[1];
  const endpoint = /^Local AWS: {3}(http:\/\/\S+)/m.exec(stdout)?.[1];
  const key = /^ {2}export KEY=(\S+)$/m.exec(stdout)?.[1];
  if (!url || !endpoint || !key) throw new Error(`npm start printed no URL, emulator or key:\n${redact(stdout)}`);
  expect(key).toMatch(new RegExp(`^${KEY_PATTERN.source}$`));
  const guide = stdout.slice(stdout.indexOf('Try:'), stdout.indexOf(READY)).split('\n');
  const commands: string[] = [];
  for (const line of guide) {
    if (/^ {4}\S/.test(line) && commands.length > 0 && commands[commands.length - 1].endsWith('\\')) {
      commands[commands.length - 1] = `${commands[commands.length - 1].slice(0, -1)}${line.trim()}`;
    } else if (/^ {2}\S/.test(line)) {
      commands.push(line.replace(/\s+# .*$/, '').trim());
    }
  }
  return { url, endpoint, key, commands };
}

function command(started: Started, includes: string): string {
  const found = started.commands.filter((line) => line.includes(includes));
  expect(found).toHaveLength(1);
  return found[0];
}

function leftoverTempStates(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('keyroll-state-'));
}

const emulatorPortOf = (endpoint: string) => Number(new URL(endpoint).port);

/** Ctrl-C, then: exit 0, and nothing left (run file, the emulator's state, temp folders, the emulator). */
async function stopCleanly(run: Foreground, started: Started, tempBefore: string[]): Promise<void> {
  expect(await run.interrupt()).toBe(0);
  expect(run.stdout).toContain('Stopping …');
  expect(redact(run.stderr)).not.toMatch(/WARN|ERROR|Error:/);
  expect(fs.existsSync(RUN_FILE)).toBe(false);
  expect(fs.existsSync(localStateDir(emulatorPortOf(started.endpoint)))).toBe(false);
  expect(fs.existsSync(localCdktfOutDir(emulatorPortOf(started.endpoint)))).toBe(false);
  expect(leftoverTempStates()).toEqual(tempBefore);
  expect(await answers(started.endpoint)).toBe(false);
  expect(await answers(`${started.url}/healthz`)).toBe(false);
}

/**
 * Ctrl-C to a command run through npx: npx itself dies of the signal (npm's way), so what counts is
 * that keyroll under it stopped serving, and said nothing went wrong.
 */
async function stopWrapped(run: Foreground, url: string): Promise<void> {
  expect([0, 'SIGINT']).toContain(await run.interrupt());
  expect(redact(run.stderr)).not.toMatch(/keyroll: [A-Z_]+:/);
  // npx may be gone a moment before the process it ran.
  for (let i = 0; i < 50 && (await answers(url)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await answers(url)).toBe(false);
}

let tempBefore: string[];

beforeAll(() => {
  tempBefore = leftoverTempStates();
  const other = readLiveRunFile();
  if (other) throw new Error(`A keyroll start (pid ${other.pid}) is running in this checkout; stop it before running this test.`);
});

afterAll(() => {
  for (const process_ of running) process_.kill();
});

describe('keyroll start with its port taken', () => {
  let holder: net.Server;
  let port: number;
  beforeAll(async () => {
    holder = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    port = (holder.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => holder.close(resolve)));

  it.each([
    ['--port', (p: number) => [['--no-deploy', '--port', String(p)], {}] as const],
    ['PORT', (p: number) => [['--no-deploy'], { PORT: String(p) }] as const],
  ])('names the port and the fix (%s), before starting anything', async (_how, given) => {
    const [args, env] = given(port);
    const run = npmStart(env, [...args]);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(`keyroll: PORT_IN_USE: Port ${port} is already in use`);
    expect(run.stderr).toContain('with --port <n> or PORT=<n>');
    expect(run.stderr).not.toContain('EADDRINUSE');
    expect(run.stdout).not.toContain('Starting local AWS');
    expect(fs.existsSync(RUN_FILE)).toBe(false);
  });
});

describe('npm start, twice in a row, then twice at once', () => {
  let first: Started;

  it('run 1: deploys quietly, and every command it prints works as printed while it runs; Ctrl-C leaves nothing behind', async () => {
    // The default port when a developer's keyroll is not on it (the README's URL), else any.
    const env = (await portIsFree(8787)) ? {} : { PORT: '0' };
    const run = npmStart(env);
    await run.waitFor(READY);
    first = parseStarted(run.stdout);

    // Quiet deploy: progress per stack and resource type, a summary, no plan, no key.
    const deploy = run.stdout.slice(run.stdout.indexOf('Deploying'), run.stdout.indexOf('Local AWS:'));
    expect(deploy).toMatch(/^keyroll-platform: 3 tables created$/m);
    expect(deploy).toMatch(/^keyroll-keys: 3 keys issued$/m);
    expect(deploy).toMatch(/^Deployed keyroll-platform, keyroll-keys: \d+ added, 0 changed, 0 destroyed; 3 keys issued\.$/m);
    expect(deploy.split('\n').length).toBeLessThan(40);
    expect(deploy).not.toMatch(/\u001b\[|will be created/);
    expect(deploy.match(KEY_PATTERN_GLOBAL)).toBeNull();

    await signInWithPrintedLink(run.stdout, first.url);

    const env_ = { KEY: first.key };
    const curls = first.commands.filter((line) => line.startsWith('curl '));
    expect(curls).toHaveLength(4);
    for (const curl of curls) {
      const { status, output } = await shell(curl, env_);
      expect(status).toBe(0);
      expect(JSON.parse(output)).not.toHaveProperty('error');
    }
    // Telemetry through both IoT rules: npm start's own devices, then the printed command's.
    await run.waitFor('Telemetry is flowing: acme_telemetry_ingest and acme_telemetry_legacy delivered to the key service (2xx).', 30_000);
    const devices = await shell(command(first, 'keyroll devices'));
    for (const rule of ['acme_telemetry_ingest', 'acme_telemetry_legacy']) {
      expect(devices.output).toMatch(new RegExp(`^  ${rule}  2xx: [1-9]\\d*  4xx: 0  5xx: 0  no answer: 0  not sent: 0 `, 'm'));
    }

    const list = await shell(command(first, 'keyroll keys list'), env_);
    expect(list.status).toBe(0);
    expect(list.output).toMatch(/telemetry-ingest\s+production\s+active/);
    expect(list.output).toMatch(/sensor-fleet\s+production\s+active/);

    const status = await shell(`KEYROLL_API_KEY=$KEY ${command(first, 'keyroll status')}`, env_);
    expect(status.status).toBe(0);
    expect(status.output).toContain(`Service    ${first.url} (keyroll start (pid ${run.child.pid})): up, environment production`);
    expect(status.output).toContain(`Local AWS  ${first.endpoint} (keyroll start (pid ${run.child.pid})): up`);
    expect(status.output).toMatch(/keyroll-keys\s+\d+ resources: .*3 keys/);
    expect(status.output).toMatch(/Keys\s+tenant acme: 5 keys \(5 active\)/);

    const serve = foreground('sh', ['-c', command(first, 'keyroll serve')], newcomerEnv());
    await serve.waitFor(/serving at http:\/\/\S+/, 60_000);
    const second = /serving at (http:\/\/\S+)/.exec(serve.stderr)![1];
    expect((await fetch(`${second}/v1/whoami`, { headers: { 'x-api-key': first.key } })).status).toBe(200);
    await stopWrapped(serve, `${second}/healthz`);

    const redeploy = await shell(command(first, 'npm run deploy:local'));
    expect(redeploy.output).not.toContain('Backend configuration changed');
    expect(redeploy.status).toBe(0);
    expect(redeploy.output).toMatch(/^keyroll-keys: no changes$/m);

    const destroy = await shell(command(first, 'npm run destroy:local'));
    expect(destroy.status).toBe(0);
    expect(destroy.output).toMatch(/^Destroyed keyroll-keys: \d+ destroyed; 3 keys revoked\.$/m);
    expect((redeploy.output + destroy.output).match(KEY_PATTERN_GLOBAL)).toBeNull();

    await stopCleanly(run, first, tempBefore);
    // The summary on Ctrl-C: deliveries by status per rule, and what the service accepted per key.
    // (The destroy above revoked the keys while the devices ran, so failures may follow the 2xx.)
    const summary = run.stdout.slice(run.stdout.indexOf('Stopping …'));
    expect(summary).toMatch(/^Telemetry: published \d+ readings to 2 topics in [\d.]+ s\.$/m);
    for (const rule of ['acme_telemetry_ingest', 'acme_telemetry_legacy']) expect(summary).toMatch(new RegExp(`^ {4}${rule} {2}2xx: [1-9]`, 'm'));
    for (const key of ['telemetry-ingest', 'telemetry-legacy']) expect(summary).toMatch(new RegExp(`^ {4}${key} +key_\\w+ +[1-9]\\d*$`, 'm'));
  });

  it('after run 1 stopped, its printed destroy has nothing to destroy, and its deploy says how to start an emulator', async () => {
    const destroy = await shell(command(first, 'npm run destroy:local'));
    expect(destroy.status).toBe(0);
    expect(destroy.output).toContain(`keyroll: nothing to destroy: no local AWS answers at ${first.endpoint}`);
    const deploy = await shell(command(first, 'npm run deploy:local'), {}, 1);
    expect(deploy.status).toBe(1);
    expect(deploy.output).toContain(`Start one there with \`npx keyroll local-aws --port ${emulatorPortOf(first.endpoint)}\``);
  });

  it('the README\'s "Deploy to the emulator" steps work after npm start', async () => {
    // As written when npm start had the README's port; else on the port it had.
    const port = emulatorPortOf(first.endpoint);
    const endpoint = `http://127.0.0.1:${port}`;
    const localAws = foreground('sh', ['-c', port === 4566 ? 'npx keyroll local-aws' : `npx keyroll local-aws --port ${port}`], newcomerEnv());
    await localAws.waitFor(`Local AWS is listening at ${endpoint}`, 60_000);
    const env = { AWS_ENDPOINT_URL: endpoint };

    const deploy = await shell('npm run deploy:local', env);
    expect(deploy.output).not.toContain('Backend configuration changed');
    expect(deploy.status).toBe(0);
    expect(deploy.output).toMatch(/^Deployed keyroll-platform, keyroll-keys: .*3 keys issued\.$/m);

    const servePort = (await portIsFree(8787)) ? {} : { PORT: '0' };
    const serve = foreground('sh', ['-c', 'npx keyroll serve'], newcomerEnv({ ...env, ...servePort }));
    await serve.waitFor(/serving at http:\/\/\S+/, 60_000);
    const url = /serving at (http:\/\/\S+)/.exec(serve.stderr)![1];
    const secrets = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: 'keyroll/acme/telemetry-ingest' }));
    const verified = await fetch(`${url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: JSON.parse(SecretString!).apiKey }) });
    expect(await verified.json()).toMatchObject({ valid: true, tenant: 'acme' });
    await stopWrapped(serve, `${url}/healthz`);

    const destroy = await shell('npm run destroy:local', env);
    expect(destroy.status).toBe(0);
    expect(destroy.output).toMatch(/^Destroyed keyroll-keys: .*3 keys revoked\.$/m);
    await stopWrapped(localAws, endpoint);
    // The emulator kept nothing, and neither does keyroll for it, once `keyroll local-aws` has exited.
    for (let i = 0; i < 50 && fs.existsSync(localStateDir(port)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.existsSync(localStateDir(port))).toBe(false);
  });

  it('run 2 starts cleanly in the same checkout; a second start meanwhile says it is already running, with its URL, and leaves it alone', async () => {
    const run = npmStart({ PORT: '0' });
    await run.waitFor('Deploying the example app');
    // While run 2 is still deploying: refused at once, naming run 2's URL.
    const early = npmStart({ PORT: '0' });
    expect(await early.exited).toBe(1);
    await run.waitFor(READY);
    const second = parseStarted(run.stdout);
    expect(early.stderr).toContain(`keyroll: ALREADY_RUNNING: keyroll is already running at ${second.url} (pid ${run.child.pid}, local AWS at ${second.endpoint}`);
    expect(early.stdout).not.toContain('Starting local AWS');

    // Once it is up, the same, even for a start that would not deploy.
    const late = npmStart({ PORT: '0' }, ['--no-deploy']);
    expect(await late.exited).toBe(1);
    expect(late.stderr).toContain(`keyroll is already running at ${second.url}`);

    // Run 2 is unaffected: its run file, its state, its service.
    expect(readRunFile()?.pid).toBe(run.child.pid);
    expect(fs.readdirSync(localStateDir(emulatorPortOf(second.endpoint))).sort()).toEqual(expect.arrayContaining(['keyroll-keys.tfstate', 'keyroll-platform.tfstate']));
    const whoami = await fetch(`${second.url}/v1/whoami`, { headers: { 'x-api-key': second.key } });
    expect(await whoami.json()).toMatchObject({ tenant: 'acme', permissions: ['*'] });
    expect(run.stdout).toMatch(/^Deployed keyroll-platform, keyroll-keys: \d+ added, 0 changed, 0 destroyed; 3 keys issued\.$/m);

    await stopCleanly(run, second, tempBefore);
  });
});
