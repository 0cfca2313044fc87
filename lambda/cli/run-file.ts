/**
 * The run file of `keyroll start` (`.keyroll/run/start.json`): one per checkout, created
 * exclusively, so a second `npm start` learns that one is running and where, instead of fighting
 * it over ports and Terraform state. `keyroll status` reads it to find the service and the emulator.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from './cli-error';
import { KEYROLL_DIR } from '../deploy-env/keyroll-dirs';

/** KEYROLL_RUN_DIR moves it, e.g. for a process that must not see this checkout's `npm start`. */
export const RUN_FILE = path.join(process.env.KEYROLL_RUN_DIR || path.join(KEYROLL_DIR, 'run'), 'start.json');

export interface RunInfo {
  readonly pid: number;
  /** The key service, once its port is known. */
  readonly url?: string;
  /** The emulator, once it is up. */
  readonly emulatorEndpoint?: string;
  /** The service's environment (KEYROLL_ENVIRONMENT). */
  readonly environment?: string;
  readonly startedAt: string;
}

/** A run file this process holds. */
export interface HeldRunFile {
  readonly info: RunInfo;
  /** Records what became known (the URL, the emulator). */
  update(fields: Partial<Omit<RunInfo, 'pid' | 'startedAt'>>): void;
  /** Removes the file, if it is still ours. Safe to call more than once. */
  release(): void;
}

/**
 * Claims the run file for this process. A file whose process is gone (killed, machine restarted)
 * is taken over.
 * @throws CliError `ALREADY_RUNNING` naming the running one's URL
 */
export function claimRunFile(fields: Partial<Omit<RunInfo, 'pid' | 'startedAt'>>, file = RUN_FILE): HeldRunFile {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let info: RunInfo = { pid: process.pid, ...fields, startedAt: new Date().toISOString() };
  // A few rounds: another process may take over the same stale file at the same moment.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusively(file, info)) {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        // Only our own: a file another process took over after ours was removed stays.
        if (readRunFile(file)?.pid === process.pid) fs.rmSync(file, { force: true });
      };
      // Also on an exit that skips the command's own clean-up (an uncaught error).
      process.on('exit', release);
      return {
        get info() {
          return info;
        },
        update(more) {
          info = { ...info, ...more };
          const temporary = `${file}.${process.pid}`;
          fs.writeFileSync(temporary, `${JSON.stringify(info, null, 2)}\n`);
          fs.renameSync(temporary, file);
        },
        release,
      };
    }
    const running = readRunFile(file);
    if (running && isAlive(running.pid)) throw alreadyRunning(running, file);
    removeIfUnchanged(file, running);
  }
  throw new CliError('RUN_FILE_BUSY', `Could not claim ${path.relative(process.cwd(), file)}: other keyroll starts keep taking it. Wait for them, then rerun.`);
}

/** The run file's content, or undefined when there is none (or it is unreadable). */
export function readRunFile(file = RUN_FILE): RunInfo | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as RunInfo;
    return Number.isInteger(parsed.pid) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The run file's content when its process is still running. */
export function readLiveRunFile(file = RUN_FILE): RunInfo | undefined {
  const info = readRunFile(file);
  return info && isAlive(info.pid) ? info : undefined;
}

export function isAlive(pid: number): boolean {
  // Our own pid in a file we are about to claim can only be a leftover from before a restart.
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it just belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Written aside, then linked into place: the file never exists half-written, and only one link can win. */
function createExclusively(file: string, info: RunInfo): boolean {
  const temporary = `${file}.${process.pid}`;
  fs.writeFileSync(temporary, `${JSON.stringify(info, null, 2)}\n`);
  try {
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * Removes a stale file, unless it changed since it was judged stale (another start took it over
 * meanwhile): moved aside first, so only one remover can win, and put back if it was not the stale one.
 */
function removeIfUnchanged(file: string, stale: RunInfo | undefined): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // Gone already.
  }
  const moved = readRunFile(aside);
  if (moved && (!stale || moved.pid !== stale.pid || moved.startedAt !== stale.startedAt)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // Someone created a new one meanwhile; theirs wins.
    }
  }
  fs.rmSync(aside, { force: true });
}

function alreadyRunning(running: RunInfo, file: string): CliError {
  const where = running.url ? `at ${running.url}` : '(still starting)';
  const emulator = running.emulatorEndpoint ? `, local AWS at ${running.emulatorEndpoint}` : '';
  return new CliError(
    'ALREADY_RUNNING',
    `keyroll is already running ${where} (pid ${running.pid}${emulator}, started ${running.startedAt}). Use that one (\`npx keyroll status\` shows it), or stop it with Ctrl-C in its terminal (or \`kill ${running.pid}\`) and rerun. Its run file is ${path.relative(process.cwd(), file) || file}.`,
  );
}
