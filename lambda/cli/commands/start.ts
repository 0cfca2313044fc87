/**
 * `keyroll start` (the README's run command): the emulator, the example app deployed to it, the
 * service and a first admin key for tenant `acme`, all in one foreground process, then what to try.
 * Repeatable: one run per checkout at a time (the run file), a taken port said before any slow
 * work, and nothing left behind on exit (the emulator's state goes with it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { LocalAwsError, type LocalAws, startLocalAws } from '../../local-aws';
import { type RunningServer, startServer } from '../../serve/node-server';
import { CliError } from '../cli-error';
import { clearLocalState, PROJECT_ROOT, stateDirFromEnv } from '../../deploy-env/keyroll-dirs';
import { useLocalAwsDefaults } from '../../deploy-env/local-endpoint';
import { serviceEnvironmentFromEnv } from '../../deploy-env/service-environment';
import { ensureTablesIfLocal } from '../local-setup';
import { freePortNear, reservePort } from '../port-reservation';
import { claimRunFile } from '../run-file';
import { startGuide } from '../start-guide';
import { StartTelemetry } from '../start-telemetry';
import { listenForInterrupt } from '../until-interrupted';
import { bootstrapKey } from './bootstrap';
import { consoleSignInLink } from './console';
import { portFromEnv, portTaken } from './serve';

const TENANT = 'acme';
/** The README's emulator port, used when free, so the printed commands match the README's. */
export const DEFAULT_EMULATOR_PORT = 4566;
const HOST = '127.0.0.1';
const CHILD_STOP_GRACE_MS = 10_000;

export interface StartOptions {
  readonly deploy: boolean;
  /** @default PORT, or 8787 */
  readonly port?: number;
  /** Terraform's full output while deploying. */
  readonly verbose?: boolean;
}

/** Thrown when Ctrl-C comes before keyroll is up; the clean-up has run by then. */
class Interrupted extends Error {}

const say = (line = '') => process.stdout.write(`${line}\n`);

export async function startCommand(options: StartOptions): Promise<void> {
  // First of all, so Ctrl-C during the slow part still runs the clean-up below.
  const interrupt = listenForInterrupt();
  const interrupted = interrupt.received.then((): never => {
    throw new Interrupted();
  });
  interrupted.catch(() => undefined);
  const cleanUp: (() => unknown)[] = [];
  try {
    const port = options.port ?? portFromEnv();
    const environment = serviceEnvironmentFromEnv();
    const run = claimRunFile({ environment });
    cleanUp.push(() => run.release());
    const reservation = await reservePort(port, HOST);
    cleanUp.push(() => reservation.release());
    run.update({ url: `http://${HOST}:${reservation.port}` });

    say('Starting local AWS (moto) …');
    const localAws = await Promise.race([startEmulator(), interrupted]);
    // This emulator starts empty, and lives only as long as this command: so does its state.
    clearLocalState(localAws.port);
    cleanUp.push(() => clearLocalState(localAws.port));
    cleanUp.push(() => localAws.stop());
    useLocalAwsDefaults(localAws.endpoint);
    run.update({ emulatorEndpoint: localAws.endpoint });

    if (options.deploy) {
      say(`Deploying the example app (stacks/keys.yaml) to local AWS at ${localAws.endpoint}; this takes a minute or so …`);
      await deployExampleApp(reservation.port, options.verbose ?? false, interrupted);
    }
    await ensureTablesIfLocal(say);
    await reservation.release();
    // The service's telemetry URL (its IoT topic rule destination) comes from PORT, as the deploy's did.
    process.env.PORT = String(reservation.port);
    // The guide is what a newcomer reads: the service's info logs (its destination confirmations)
    // would land in the middle of it. Warnings still show; POWERTOOLS_LOG_LEVEL=INFO brings them back.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    const server: RunningServer = await startServer(reservation.port, {}, HOST).catch((error: unknown) => {
      throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? portTaken(reservation.port) : error;
    });
    cleanUp.push(() => server.stop());
    // IoT asked the deploy's rule destinations to confirm while the port turned every connection
    // away (port-reservation.ts): ask again, now that the service answers (as serve.ts does).
    await server.service.deps.destinations.requestFreshConfirmations();
    const { id, key } = await bootstrapKey({ tenant: TENANT, name: 'local-owner' });
    // Readings through the deployed rules, once their destinations are ENABLED (the service's own
    // confirmation, just asked for, does that within a second or so).
    const aborted = new AbortController();
    void interrupt.received.then(() => aborted.abort());
    const starting = options.deploy
      ? StartTelemetry.prepare({
          emulatorEndpoint: localAws.endpoint,
          tenant: TENANT,
          serviceUrl: server.url,
          ownerKey: key,
          flushUsage: () => server.service.deps.usage.flush(),
          say,
          signal: aborted.signal,
        })
      : Promise.resolve(undefined);
    // Stopped before the service (clean-up runs in reverse), so no reading meets a closed port;
    // also when Ctrl-C comes while it starts (the signal makes that quick).
    cleanUp.push(async () => (await starting)?.stop());
    const telemetry = await Promise.race([starting, interrupted]);

    say();
    say(`Local AWS:   ${localAws.endpoint}`);
    say(`keyroll:     ${server.url} (environment ${environment})`);
    say(`Owner key ${id} for tenant ${TENANT} (every permission, *), shown once:`);
    say(`  export KEY=${key}`);
    say(`Console:     ${await consoleSignInLink(TENANT, id, key, server.url)}`);
    say(`             (a one-time sign-in link, valid 10 minutes; \`npx keyroll console --tenant ${TENANT}\` makes another)`);
    say();
    const guide = startGuide({
      url: server.url,
      port: server.port,
      emulatorEndpoint: localAws.endpoint,
      environment,
      tenant: TENANT,
      deployed: options.deploy,
      otherPort: await freePortNear(server.port + 1, HOST),
      stateDir: stateDirFromEnv(),
      ...(telemetry ? { telemetry: telemetry.description } : {}),
    });
    for (const line of guide) say(line);
    say();
    say('Press Ctrl-C to stop.');
    await telemetry?.begin();
    await interrupt.received;
    say('Stopping …');
    if (telemetry) for (const line of await telemetry.stop()) say(line);
  } catch (error) {
    if (!(error instanceof Interrupted)) throw error;
    say('Interrupted before keyroll was up; stopping what had started.');
    process.exitCode = 130;
  } finally {
    interrupt.stop();
    for (const step of cleanUp.reverse()) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`keyroll: while stopping: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }
}

/** The README's port when free; a free one when something else holds it. */
async function startEmulator(): Promise<LocalAws> {
  try {
    return await startLocalAws({ port: DEFAULT_EMULATOR_PORT, quiet: true });
  } catch (error) {
    if (!(error instanceof LocalAwsError && error.code === 'PORT_IN_USE')) throw error;
    say(`Port ${DEFAULT_EMULATOR_PORT} is taken (another emulator?), so local AWS takes a free port; the commands below name it.`);
    return startLocalAws({ port: 0, quiet: true });
  }
}

/**
 * Deploys the example app with the stacks' own runner, in a child process (cdktf stays in stacks/)
 * with its own process group, so Ctrl-C reaches it through this command, which waits for it.
 */
async function deployExampleApp(port: number, verbose: boolean, interrupted: Promise<never>): Promise<void> {
  const args = [require.resolve('tsx/cli'), path.join(PROJECT_ROOT, 'stacks', 'deploy', 'main.ts'), 'deploy', '--local', ...(verbose ? ['--verbose'] : [])];
  // PORT: the IoT rules post to the service this command is about to start.
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: 'inherit', detached: true, env: { ...process.env, PORT: String(port) } });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  try {
    const code = await Promise.race([exited, interrupted]);
    if (code !== 0) {
      throw new CliError('DEPLOY_FAILED', `Deploying the example app failed (exit ${code}); the lines above say why. \`npx keyroll start --no-deploy\` starts without it.`);
    }
  } catch (error) {
    if (error instanceof Interrupted) await stopChild(child, exited);
    throw error;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGINT');
  const timer = setTimeout(() => signalGroup('SIGKILL'), CHILD_STOP_GRACE_MS);
  await exited.catch(() => undefined);
  clearTimeout(timer);
}
