/**
 * Where a request's CPU time goes, for `GET /v1/whoami` against `GET /healthz`: each endpoint
 * alone under wrk/autocannon load in a server started with `node --cpu-prof`, pinned like
 * `npm run bench`; only the samples taken while the load ran count (not start-up or warm-up).
 * Prints, per endpoint and side by side in µs per request: the top self-time functions, self time
 * per part of the stack (keyroll's verify/rate-limit/usage/serve, Hono, the Node adapter, Node's
 * HTTP), and time spent anywhere under each part. Profiling slows every function a little; read
 * the shares and the differences, not the absolute µs.
 *
 * Run: npx tsx test/bench/profile-hot-path.ts   (PROFILE_SECONDS, default 8; PROFILE_INTERVAL_MICROS,
 * default 1000; PROFILE_KEEP=1 keeps the .cpuprofile files)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startBenchEnvironment } from './bench-environment';
import { CATEGORIES, type CpuProfile, type ProfileBreakdown, analyseProfile } from './cpu-profile';
import { describePinning, detectPinning, pinThisProcess, runOnlyWhenIdle } from './cpu-pinning';
import { type Target, measureRound, pickLoadGenerator, startServerProcess } from './http-load';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 8);
// V8's default. Finer sampling costs the profiler's own thread more CPU, which shares the server's
// pinned core and leaves the main thread idle between requests it could have served.
const SAMPLING_MICROS = Number(process.env.PROFILE_INTERVAL_MICROS ?? 1000);
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Measured {
  readonly name: string;
  readonly requests: number;
  readonly rps: number;
  readonly breakdown: ProfileBreakdown;
}

async function main() {
  const pinning = detectPinning();
  if (pinning.pinned) pinThisProcess(pinning.loadCpus);
  log(describePinning(pinning));
  const env = await startBenchEnvironment();
  const emulatorIdle = runOnlyWhenIdle(env.localAws.pid);
  if (emulatorIdle !== undefined) log(`emulator: at normal priority (${emulatorIdle})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-profile-'));
  try {
    const generator = pickLoadGenerator();
    const measured: Measured[] = [];
    for (const [name, target] of [
      ['healthz', (url: string): Target => ({ url: `${url}/healthz`, headers: {} })],
      ['whoami', (url: string): Target => ({ url: `${url}/v1/whoami`, headers: { 'x-api-key': env.key } })],
    ] as const) {
      const profileDir = path.join(dir, name);
      const server = await startServerProcess({
        cpus: pinning.pinned ? [pinning.serverCpu] : undefined,
        nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', String(SAMPLING_MICROS)],
      });
      const round = (seconds: number) =>
        measureRound({ generator, serverPid: server.child.pid!, target: target(server.url), seconds, loadCpus: pinning.pinned ? pinning.loadCpus : undefined });
      let result;
      let window;
      try {
        await round(3); // warm the cache, the leases and the JIT
        const fromMicros = Number(process.hrtime.bigint() / 1000n);
        result = await round(SECONDS);
        window = { fromMicros, toMicros: Number(process.hrtime.bigint() / 1000n) };
      } finally {
        await server.stop();
      }
      const [file] = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`the ${name} server wrote no .cpuprofile into ${profileDir}: did it exit through its SIGTERM handler?`);
      const profile = JSON.parse(fs.readFileSync(path.join(profileDir, file), 'utf8')) as CpuProfile;
      const breakdown = analyseProfile(profile, window);
      if (breakdown.samples < (SECONDS * 1e6) / SAMPLING_MICROS / 4) {
        throw new Error(`only ${breakdown.samples} samples fell in the load window: the profile's clock and process.hrtime disagree?`);
      }
      measured.push({ name, requests: result.requests, rps: result.rps, breakdown });
      log(
        `${name}: ${Math.round(result.rps)} req/s under the profiler; server process busy ${result.serverBusyPct.toFixed(0)}% of a core, its main thread ${pct(breakdown.busySamples, breakdown.samples)} ` +
          `(${breakdown.samples} samples of ${breakdown.sampleMicros.toFixed(0)} µs); other programs ${result.othersPct.toFixed(0)}%`,
      );
    }
    report(measured);
    if (process.env.PROFILE_KEEP === '1') log(`\nprofiles kept in ${dir}`);
  } finally {
    if (process.env.PROFILE_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
    await env.stop();
  }
}

function report(measured: readonly Measured[]) {
  const perRequest = (m: Measured, samples: number) => (samples * m.breakdown.sampleMicros) / m.requests;
  const names = measured.map((m) => m.name);
  log(`\nCPU µs per request (busy samples × interval ÷ requests): ${measured.map((m) => `${m.name} ${perRequest(m, m.breakdown.busySamples).toFixed(1)}`).join(', ')}`);

  for (const m of measured) {
    log(`\n${m.name}: top self time (share of busy samples, µs/request)`);
    for (const f of m.breakdown.functions.filter((f) => f.frame !== '(idle)').slice(0, 25)) {
      log(`  ${pct(f.samples, m.breakdown.busySamples).padStart(6)}  ${perRequest(m, f.samples).toFixed(2).padStart(6)}  ${f.frame}  [${f.category}]`);
    }
  }

  log(`\nself time by part of the stack, µs/request (native frames charged to their JS caller): ${names.join(' | ')} | difference`);
  for (const { name } of CATEGORIES.filter((c) => c.name !== 'idle')) {
    const values = measured.map((m) => perRequest(m, m.breakdown.selfByCategory.get(name) ?? 0));
    if (values.every((v) => v < 0.05)) continue;
    log(`  ${name.padEnd(48)} ${values.map((v) => v.toFixed(2).padStart(6)).join(' | ')} | ${(values[1] - values[0]).toFixed(2).padStart(6)}`);
  }

  log(`\ntime anywhere under each part, µs/request (a sample counts once per part): ${names.join(' | ')}`);
  for (const { name } of CATEGORIES.filter((c) => c.name !== 'idle' && c.name !== 'other')) {
    const values = measured.map((m) => perRequest(m, m.breakdown.inclusiveByCategory.get(name) ?? 0));
    if (values.every((v) => v < 0.05)) continue;
    log(`  ${name.padEnd(48)} ${values.map((v) => v.toFixed(2).padStart(6)).join(' | ')}`);
  }

  const [baseline, auth] = measured;
  log(`\nframes with the most time under them for ${auth.name} (keyroll, hono, @hono/node-server, node:_http*), µs/request: ${names.join(' | ')}`);
  const frames = [...auth.breakdown.inclusiveByFrame]
    .filter(([frame]) => / (lambda\/|node_modules\/(hono|@hono)\/|node:_http)/.test(frame))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 40);
  for (const [frame, samples] of frames) {
    log(`  ${perRequest(baseline, baseline.breakdown.inclusiveByFrame.get(frame) ?? 0).toFixed(2).padStart(6)} | ${perRequest(auth, samples).toFixed(2).padStart(6)}  ${frame}`);
  }
}

const pct = (part: number, whole: number) => `${((part / whole) * 100).toFixed(1)}%`;

main().catch((error) => {
  process.stderr.write(`profile failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
