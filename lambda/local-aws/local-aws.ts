/**
 * Starts and stops the local AWS emulator: moto in server mode on loopback, extended by
 * moto_launcher.py with IoT tagging, Docker-free Lambda Invoke for Node handlers, an IoT rules
 * engine with topic rule destinations, Secrets Manager rotation as on AWS, and a ticker that fires
 * due rotations and EventBridge Scheduler schedules.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { bindFailed, exitedEarly, invalidSetting, LocalAwsError, motoMissing, portInUse, pythonNotFound, startTimeout } from './errors';
import { killOnExit } from './exit-hooks';

export interface LocalAwsOptions {
  /**
   * Port to listen on.
   * @default 0 (pick a free port)
   */
  readonly port?: number;
  /**
   * Address to bind. Keep it on loopback: the emulator has no authentication.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Hide the emulator's request log and output instead of copying them to this process's stderr.
   * Start-up errors still quote the emulator's last lines.
   * @default false
   */
  readonly quiet?: boolean;
  /**
   * How long to wait for the emulator to answer before giving up.
   * @default 30000
   */
  readonly startTimeoutMs?: number;
  /**
   * Python interpreter that has moto installed.
   * @default process.env.KEYROLL_PYTHON, else 'python3'
   */
  readonly python?: string;
  /**
   * How long each node of the emulator's IoT rules engine caches a `get_secret` value, in seconds.
   * Sets KEYROLL_IOT_SECRET_CACHE_SECONDS for the emulator; 0 reads the secret on every message.
   * @default process.env.KEYROLL_IOT_SECRET_CACHE_SECONDS, else 900 (AWS's 15 minutes)
   */
  readonly iotSecretCacheSeconds?: number;
  /**
   * How often, in seconds, the emulator starts due Secrets Manager rotations and fires due
   * EventBridge Scheduler schedules. Sets KEYROLL_LOCAL_SCHEDULER_TICK_SECONDS; 0 never does (only
   * `startDueRotations` and `runSchedule` do).
   * @default process.env.KEYROLL_LOCAL_SCHEDULER_TICK_SECONDS, else 30
   */
  readonly schedulerTickSeconds?: number;
  /**
   * How many more times Secrets Manager tries a failed rotation, with the same token, before it
   * gives up. Sets KEYROLL_LOCAL_ROTATION_RETRIES.
   * @default process.env.KEYROLL_LOCAL_ROTATION_RETRIES, else 2
   */
  readonly rotationRetries?: number;
  /**
   * Seconds between a failed rotation and its retry. Sets KEYROLL_LOCAL_ROTATION_RETRY_SECONDS.
   * @default process.env.KEYROLL_LOCAL_ROTATION_RETRY_SECONDS, else 60
   */
  readonly rotationRetrySeconds?: number;
}

/** A running emulator. It keeps this Node process alive until {@link LocalAws.stop} is called. */
export interface LocalAws {
  /** Base URL for AWS clients, such as `http://127.0.0.1:4566`; pass it as `endpoint` or `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  readonly port: number;
  /** The emulator's own process (Lambda handlers run in processes it starts), e.g. for a benchmark to lower its priority. */
  readonly pid: number;
  /** Stops the emulator and every Lambda handler it is running. Safe to call more than once. */
  stop(): Promise<void>;
}

const LAUNCHER = join(__dirname, 'moto_launcher.py');
const ANNOUNCE_PREFIX = 'keyroll-local-aws: ';
const OUTPUT_LINES_KEPT = 20;
const STOP_GRACE_MS = 5000;

type Announcement =
  | { event: 'ready'; endpoint: string; port: number }
  | { event: 'error'; code: 'MOTO_MISSING' | 'PORT_IN_USE' | 'BIND_FAILED' | 'INVALID_SETTING'; message: string };

/**
 * Starts the emulator and resolves once it answers HTTP requests.
 *
 * @example
 * const aws = await startLocalAws();
 * const lambda = new LambdaClient({ endpoint: aws.endpoint });
 * // ...
 * await aws.stop();
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const { port, host, quiet, startTimeoutMs, python, iotSecretCacheSeconds, schedulerTickSeconds, rotationRetries, rotationRetrySeconds } = {
    port: 0,
    host: '127.0.0.1',
    quiet: false,
    startTimeoutMs: 30_000,
    python: process.env.KEYROLL_PYTHON ?? 'python3',
    ...withoutUndefined(options),
  };
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`port must be an integer from 0 to 65535 (0 picks a free port); got ${port}.`);
  }
  const settings = {
    KEYROLL_IOT_SECRET_CACHE_SECONDS: seconds('iotSecretCacheSeconds', iotSecretCacheSeconds, 900),
    KEYROLL_LOCAL_SCHEDULER_TICK_SECONDS: seconds('schedulerTickSeconds', schedulerTickSeconds, 30),
    KEYROLL_LOCAL_ROTATION_RETRIES: count('rotationRetries', rotationRetries, 2),
    KEYROLL_LOCAL_ROTATION_RETRY_SECONDS: seconds('rotationRetrySeconds', rotationRetrySeconds, 60),
  };

  const child = spawn(python, launcherArgs(host, port, quiet), {
    // Its own process group, so stop() can signal the launcher and anything it started.
    detached: true,
    // stdin stays open and unused: the launcher exits when it closes, even if this process is
    // killed with SIGKILL and no exit hook runs.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...withoutUndefined(settings) },
  });
  // Never written to; ignore EPIPE should the launcher be gone.
  child.stdin.on('error', () => undefined);
  // 'close' rather than 'exit': it comes after stdout is read, so an error the launcher announced
  // just before exiting is seen first.
  const exited = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)));
  const output = captureOutput(child, quiet);
  const cancelExitHook = killOnExit(() => signalGroup(child, 'SIGTERM'));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      cancelExitHook();
      // No pid: the spawn itself failed, there is nothing to stop.
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, 'SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false, { ref: false })]);
      if (!stopped) {
        signalGroup(child, 'SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };

  try {
    const ready = await waitUntilServing(child, exited, output, { host, port, python, startTimeoutMs });
    return { endpoint: ready.endpoint, port: ready.port, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** An option given as a number of seconds, as the launcher's environment wants it; undefined when not given. */
function seconds(option: string, value: number | undefined, defaultValue: number): string | undefined {
  if (value === undefined) return undefined;
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${option} must be a number of seconds, 0 or more (default ${defaultValue}); got ${value}.`);
  return String(value);
}

function count(option: string, value: number | undefined, defaultValue: number): string | undefined {
  if (value === undefined) return undefined;
  if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`${option} must be a whole number, 0 or more (default ${defaultValue}); got ${value}.`);
  return String(value);
}

function launcherArgs(host: string, port: number, quiet: boolean): string[] {
  const args = [LAUNCHER, '--host', host, '--port', String(port), '--exit-with-stdin', '--node', process.execPath];
  const sdk = nodeModulesWithAwsSdk();
  if (sdk) args.push('--sdk-node-modules', sdk);
  if (quiet) args.push('--quiet');
  return args;
}

/** The nearest node_modules above this file that holds @aws-sdk, offered to Lambda handlers as Lambda's runtime SDK. */
function nodeModulesWithAwsSdk(): string | undefined {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(join(candidate, '@aws-sdk'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

interface Output {
  /** The emulator's last lines, quoted in start-up errors. */
  readonly recent: string[];
  /** The launcher's one announcement: ready, or why it could not start. */
  readonly announced: Promise<Announcement>;
}

function captureOutput(child: ChildProcessWithoutNullStreams, quiet: boolean): Output {
  const recent: string[] = [];
  const remember = (line: string): void => {
    recent.push(line);
    if (recent.length > OUTPUT_LINES_KEPT) recent.shift();
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  // Both streams are always read, even when quiet, so the emulator never blocks on a full pipe.
  createInterface({ input: child.stderr }).on('line', remember);
  const announced = new Promise<Announcement>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(ANNOUNCE_PREFIX)) resolve(JSON.parse(line.slice(ANNOUNCE_PREFIX.length)) as Announcement);
      else remember(line);
    });
  });
  return { recent, announced };
}

interface StartContext {
  readonly host: string;
  readonly port: number;
  readonly python: string;
  readonly startTimeoutMs: number;
}

async function waitUntilServing(
  child: ChildProcessWithoutNullStreams,
  exited: Promise<string>,
  output: Output,
  context: StartContext,
): Promise<{ endpoint: string; port: number }> {
  const deadline = Date.now() + context.startTimeoutMs;
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? pythonNotFound(context.python) : error),
    ),
  );
  const failOnExit = exited.then((exit): never => {
    throw exitedEarly(exit, output.recent);
  });
  // Unref'd, so a pending start-up timer never holds the process open after start or stop.
  const timeout = sleep(context.startTimeoutMs, undefined, { ref: false }).then((): never => {
    throw startTimeout(context.startTimeoutMs, output.recent);
  });
  // Without these, the losers of the races below would reject unobserved.
  for (const promise of [spawnFailed, failOnExit, timeout]) promise.catch(() => undefined);

  const announced = await Promise.race([output.announced, spawnFailed, failOnExit, timeout]);
  if (announced.event === 'error') throw announcedError(announced, context);
  while (!(await answers(announced.endpoint, deadline))) {
    await Promise.race([sleep(100), failOnExit]);
    if (Date.now() > deadline) throw startTimeout(context.startTimeoutMs, output.recent);
  }
  return { endpoint: announced.endpoint, port: announced.port };
}

function announcedError(announced: Extract<Announcement, { event: 'error' }>, context: StartContext): LocalAwsError {
  switch (announced.code) {
    case 'PORT_IN_USE':
      return portInUse(context.host, context.port);
    case 'BIND_FAILED':
      return bindFailed(context.host, context.port, announced.message);
    case 'MOTO_MISSING':
      return motoMissing(context.python, announced.message);
    case 'INVALID_SETTING':
      return invalidSetting(announced.message);
  }
}

/** Any HTTP answer means moto is serving; the status does not matter. */
async function answers(endpoint: string, deadline: number): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(Math.max(1, Math.min(1000, deadline - Date.now()))) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

function signalGroup(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
