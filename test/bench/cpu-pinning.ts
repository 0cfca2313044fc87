/**
 * Keeps a benchmark's server and its load generator off each other's cores with `taskset`, when
 * the machine allows: the tool is installed and this process may run on at least two CPUs.
 * Sharing cores, the two steal time from each other in a pattern that changes from run to run, and
 * a throughput ratio measured that way moves by more than the cost it is meant to show.
 */
import { spawnSync } from 'node:child_process';

export type Pinning =
  | {
      readonly pinned: true;
      /** The one CPU the server runs on, so its figures are one core's. */
      readonly serverCpu: number;
      /** Everything else: the load generator, this process and the emulator it starts. */
      readonly loadCpus: readonly number[];
    }
  | { readonly pinned: false; readonly reason: string };

/** `0-3,6,8-9` (taskset's and /sys's "cpu list" format) → [0, 1, 2, 3, 6, 8, 9]. */
export function parseCpuList(list: string): number[] {
  const cpus = new Set<number>();
  for (const part of list.trim().split(',').filter(Boolean)) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw new Error(`"${list}" is not a CPU list: expected numbers and ranges such as 0-3,6.`);
    const [first, last] = [Number(match[1]), Number(match[2] ?? match[1])];
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Splits the CPUs this process may use: the last for the server, the rest for the load. */
export function planPinning(allowedCpus: readonly number[]): Pinning {
  if (allowedCpus.length < 2) {
    return { pinned: false, reason: `this process may run on ${allowedCpus.length} CPU(s); pinning needs at least 2` };
  }
  return { pinned: true, serverCpu: allowedCpus[allowedCpus.length - 1], loadCpus: allowedCpus.slice(0, -1) };
}

/**
 * Decides the pinning for this machine. `BENCH_PIN=0` turns it off (to compare with an unpinned
 * run); without taskset, or with one CPU allowed, the benchmark runs unpinned and says why.
 */
export function detectPinning(env: NodeJS.ProcessEnv = process.env): Pinning {
  if (env.BENCH_PIN === '0') return { pinned: false, reason: 'BENCH_PIN=0' };
  const probe = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { pinned: false, reason: 'taskset is not installed (util-linux)' };
  // "pid 123's current affinity list: 0,1"
  const list = /list:\s*(\S+)/.exec(probe.stdout)?.[1];
  if (!list) return { pinned: false, reason: `could not read this process's CPUs from taskset: ${probe.stdout.trim()}` };
  return planPinning(parseCpuList(list));
}

/** Moves this process (every thread, `-a`) onto `cpus`; children started afterwards inherit it. */
export function pinThisProcess(cpus: readonly number[]): void {
  const result = spawnSync('taskset', ['-a', '-pc', cpus.join(','), String(process.pid)], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(`taskset could not pin this process to CPUs ${cpus.join(',')}: ${result.stderr || result.error}`);
}

/**
 * `command args` as run on `cpus` (through `taskset -c`, which execs it: the child's pid is the
 * command's own, so /proc figures read for that pid are the command's), or unchanged when unpinned.
 */
export function onCpus(cpus: readonly number[] | undefined, command: string, args: readonly string[]): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus.join(','), command, ...args]] : [command, [...args]];
}

export function describePinning(pinning: Pinning): string {
  return pinning.pinned
    ? `pinned: server on CPU ${pinning.serverCpu}, load generator, bench and emulator on CPU ${pinning.loadCpus.join(',')}`
    : `unpinned (${pinning.reason}): server and load generator share cores, so rounds vary more`;
}

/**
 * Lets `pid` (every thread, `-a`; threads and processes it starts later inherit it) run only when
 * its CPUs have nothing else to do (SCHED_IDLE, `chrt --idle`). For the emulator: it shares the
 * load generator's CPU, and the service's background store calls keep it busy in the authenticated
 * rounds only; at normal priority its bursts delay wrk's reads, which shows as a p99 the server never
 * caused (and less load). Returns why it could not, or undefined.
 */
export function runOnlyWhenIdle(pid: number): string | undefined {
  const result = spawnSync('chrt', ['--idle', '-a', '-p', '0', String(pid)], { encoding: 'utf8' });
  if (result.error) return 'chrt is not installed (util-linux)';
  return result.status === 0 ? undefined : `chrt failed: ${result.stderr.trim()}`;
}
