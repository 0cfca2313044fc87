/**
 * HTTP load for the benchmarks: the service in a server process of its own, and timed rounds of
 * load against it from `wrk` (a C client that stays out of the server's way; `apt-get install wrk`)
 * or, without it, autocannon. Each round also reads from /proc the server process's own CPU time,
 * which the load generator cannot skew, and the CPU time other programs on the machine took
 * meanwhile, which says whether the round was disturbed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { onCpus } from './cpu-pinning';

export const CONNECTIONS = 32;

export type LoadGenerator = 'wrk' | 'autocannon';

export interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
}

export interface Round {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly requests: number;
  readonly cpuMicrosPerRequest: number;
  /** Server CPU time over the round's wall time: about 100 % when the server is what limits throughput. */
  readonly serverBusyPct: number;
  /**
   * CPU time of every process outside this one's tree (this process, the server, wrk, the
   * emulator and its Lambda processes) over the round's wall time, in % of one core.
   */
  readonly othersPct: number;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** SIGTERM, then waits for the exit (a `--cpu-prof` profile is written on the way out). */
  stop(): Promise<void>;
}

/** wrk when installed, unless BENCH_LOAD=autocannon. */
export function pickLoadGenerator(env: NodeJS.ProcessEnv = process.env): LoadGenerator {
  return env.BENCH_LOAD !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined ? 'wrk' : 'autocannon';
}

export interface ServerOptions {
  /** CPUs the server runs on. @default any */
  readonly cpus?: readonly number[];
  /** Flags for node itself, e.g. `['--cpu-prof', '--cpu-prof-dir', dir]`. @default [] */
  readonly nodeFlags?: readonly string[];
  /** What node runs, after its flags. @default keyroll's CLI: `['lambda/cli/bin.cjs', 'serve']` */
  readonly command?: readonly string[];
  /** Added to this process's environment. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** `keyroll serve` (or `command`) on a free port, as a developer runs it; waits for its "serving at" line. */
export async function startServerProcess(options: ServerOptions = {}): Promise<ServerProcess> {
  const [command, args] = onCpus(options.cpus, process.execPath, [...(options.nodeFlags ?? []), ...(options.command ?? ['lambda/cli/bin.cjs', 'serve'])]);
  const child = spawn(command, args, {
    env: { ...process.env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'WARN', ...options.env },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  let output = '';
  child.stderr!.setEncoding('utf8');
  for await (const chunk of child.stderr!) {
    output += chunk;
    const match = /serving at (http:\/\/\S+)/.exec(output);
    if (match) {
      child.stderr!.resume();
      return { child, url: match[1], stop };
    }
  }
  await exited;
  throw new Error(`${args.join(' ')} did not start:\n${output}`);
}

/** Linux's USER_HZ: /proc counts CPU time in ticks of 10 ms. */
const MICROS_PER_TICK = 10_000;

/** Fields of /proc/<pid>/stat after the command name, as numbers (field 3, state, is index 0). */
function statFields(pid: number | 'self'): number[] {
  return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
}

/** utime + stime of a process, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = statFields(pid);
  return (fields[11] + fields[12]) * MICROS_PER_TICK;
}

/** CPU time of this process and all its descendants, live (utime + stime) or waited for (cutime + cstime). */
function ownTreeMicros(): number {
  let ticks = 0;
  const visit = (pid: number | 'self') => {
    try {
      const fields = statFields(pid);
      ticks += fields[11] + fields[12] + fields[13] + fields[14];
      for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
        for (const child of fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(child));
      }
    } catch {
      // Exited meanwhile (its time moves to its parent's cutime), or no /proc/…/children here.
    }
  };
  visit('self');
  return ticks * MICROS_PER_TICK;
}

/** CPU time spent by the whole machine, every CPU, out of idle (/proc/stat's first line). */
function machineBusyMicros(): number {
  const [user, nice, system, , , irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) * MICROS_PER_TICK;
}

export interface RoundOptions {
  readonly generator: LoadGenerator;
  readonly serverPid: number;
  readonly target: Target;
  readonly seconds: number;
  /** CPUs wrk runs on (autocannon runs in this process, wherever it is pinned). @default any */
  readonly loadCpus?: readonly number[];
}

export async function measureRound(options: RoundOptions): Promise<Round> {
  const cpuBefore = cpuMicros(options.serverPid);
  const machineBefore = machineBusyMicros();
  const oursBefore = ownTreeMicros();
  const wallBefore = process.hrtime.bigint();
  const result = options.generator === 'wrk' ? await wrk(options) : await autocannonRound(options);
  const wallMicros = Number(process.hrtime.bigint() - wallBefore) / 1000;
  const cpu = cpuMicros(options.serverPid) - cpuBefore;
  const others = machineBusyMicros() - machineBefore - (ownTreeMicros() - oursBefore);
  return {
    ...result,
    cpuMicrosPerRequest: cpu / result.requests,
    serverBusyPct: (cpu / wallMicros) * 100,
    othersPct: Math.max(0, (others / wallMicros) * 100),
  };
}

async function autocannonRound({ target, seconds }: RoundOptions) {
  const result = await autocannon({ url: target.url, headers: target.headers, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  return { rps: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, requests: result.requests.total };
}

/** wrk with a Lua `done` hook that prints the numbers as JSON. */
async function wrk({ target, seconds, loadCpus }: RoundOptions) {
  const script = path.join(os.tmpdir(), 'keyroll-bench-wrk.lua');
  fs.writeFileSync(
    script,
    `done = function(summary, latency, requests)
  io.write(string.format('{"requests":%d,"durationUs":%d,"non2xx":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, summary.errors.status, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  const headers = Object.entries(target.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const [command, args] = onCpus(loadCpus, 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, ...headers, target.url]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  await once(child, 'exit');
  const line = output.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no summary:\n${output}`);
  const r = JSON.parse(line);
  return { rps: r.requests / (r.durationUs / 1e6), p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, non2xx: r.non2xx, requests: r.requests };
}
