/**
 * `npm run bench`: what authentication costs on the hot path, measured side by side in one run.
 * 1. In-process: warm-cache verifications/s (verify + rate-limit decision + usage count), one core.
 * 2. The service Lambda: its bundle's size and its cold start (process start → handler ready) as
 *    the emulator's invoker runs it, with a check that init makes no network call (cold-start.ts).
 * 3. Loopback: the same server's `GET /v1/whoami` (authenticated, rate-limited) against its
 *    `GET /healthz` (no auth) in interleaved rounds, with the server and the load generator pinned
 *    to separate cores when the machine allows (cpu-pinning.ts). Each round pair gives a ratio;
 *    the figure is their median, with its spread. Also p50/p99 and the server process's own CPU
 *    time per request (from /proc), which the load generator can't skew.
 *    Beside each pair, a control: a bare node:http server replaying keyroll's two answers byte for
 *    byte (node-floor.ts). Its ratio is what Node's HTTP and the bigger exchange cost on this
 *    machine; keyroll's ratio over it (`ratioVsFloor`) is what keyroll's own work costs.
 * The last line is a JSON summary.
 *
 * Every measured round follows an unmeasured lead-in of the same load (LEAD_IN_SECONDS below).
 * Settings: BENCH_ROUNDS (round pairs, default 16), BENCH_SECONDS (per round, default 2),
 * BENCH_COLD_STARTS (default 10), BENCH_PIN=0 (run unpinned), BENCH_LOAD=autocannon.
 */
import { LeasedRateLimiter, DynamoDbRateLimitStore } from '../../lambda/rate-limit';
import { UsageRecorder } from '../../lambda/usage/usage-recorder';
import { KeyVerifier } from '../../lambda/verify/key-verifier';
import { type BenchEnvironment, startBenchEnvironment } from './bench-environment';
import { MIN_ROUNDS_FOR_IQR, median, medianDifference, pairedRatios, roundTo } from './bench-stats';
import { type ColdStart, measureColdStart } from './cold-start';
import { describePinning, detectPinning, pinThisProcess, runOnlyWhenIdle } from './cpu-pinning';
import { CONNECTIONS, type Round, type ServerProcess, type Target, measureRound, pickLoadGenerator, startServerProcess } from './http-load';
import { recordAnswer, startNodeFloor } from './node-floor';

// Many short pairs rather than a few long ones: this machine's speed moves from one second to the
// next (seen in 1 s slices with nothing else running), and a median over more pairs moves less.
const SECONDS_PER_ROUND = Number(process.env.BENCH_SECONDS ?? 2);
// Even, so that each endpoint goes first in half of the pairs (see the loop below).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 16);
const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 10);
const WARM_PAIRS = 3;
/**
 * Each measured round follows an unmeasured second of the same load. Between two whoami rounds
 * the server sits idle for 6 s or more (the other rounds run), which is past the key cache's
 * 5 s stale limit and into a new rate-limit slice: without the lead-in every whoami round would
 * start with a store read (32 requests waiting on it) and a lease ramp (more waiting on that), a
 * burst-after-idle cost a steady integration never pays. The lead-ins are reported apart (`afterIdle…`).
 */
const LEAD_IN_SECONDS = 1;
/** Below this, a pinned server was not what limited throughput, so the ratio understates the cost. */
const SATURATED_PCT = 90;
/** Other programs taking more than this share of one core during a round disturb it. */
const DISTURBED_PCT = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  const pinning = detectPinning();
  // Before the emulator starts, so that it, and the Lambda processes it starts, inherit the load's CPUs.
  if (pinning.pinned) pinThisProcess(pinning.loadCpus);
  log(describePinning(pinning));
  const env = await startBenchEnvironment();
  try {
    const verifyPerSec = await inProcessVerifications(env);
    log(`in-process: ${Math.round(verifyPerSec).toLocaleString('en')} verifications/s (warm cache, verify + rate limit + usage, one core)`);

    const cold = await measureColdStart({ tables: env.tables, runs: COLD_STARTS });
    log(coldStartLine(cold));

    // After the cold starts, whose Lambda processes the emulator starts (and would pass SCHED_IDLE on to).
    const emulatorIdle = runOnlyWhenIdle(env.localAws.pid);
    log(emulatorIdle === undefined ? 'emulator: runs only when its CPU is otherwise idle (SCHED_IDLE), so it does not delay the load generator' : `emulator: at normal priority (${emulatorIdle}); p99 may include its bursts`);

    const loadGenerator = pickLoadGenerator();
    const loadCpus = pinning.pinned ? pinning.loadCpus : undefined;
    const serverCpus = pinning.pinned ? [pinning.serverCpu] : undefined;
    const server = await startServerProcess({ cpus: serverCpus });
    const rounds = { auth: [] as Round[], baseline: [] as Round[], floorAuth: [] as Round[], floorBaseline: [] as Round[], afterIdleAuth: [] as Round[], afterIdleBaseline: [] as Round[] };
    let floor: ServerProcess | undefined;
    try {
      log(`load generator: ${loadGenerator}, ${CONNECTIONS} connections, ${ROUNDS} round pairs of ${SECONDS_PER_ROUND} s per endpoint`);
      const whoami: Target = { url: `${server.url}/v1/whoami`, headers: { 'x-api-key': env.key } };
      const healthz: Target = { url: `${server.url}/healthz`, headers: {} };
      const serverPid = server.child.pid!;
      const round = (target: Target, seconds: number, pid = serverPid) => measureRound({ generator: loadGenerator, serverPid: pid, target, seconds, loadCpus });
      /** The lead-in, then the measured round; the lead-in's figures go to `afterIdle` when given. */
      const ledRound = async (target: Target, pid: number, afterIdle?: Round[]) => {
        const leadIn = await round(target, LEAD_IN_SECONDS, pid);
        afterIdle?.push(leadIn);
        return round(target, SECONDS_PER_ROUND, pid);
      };
      // Warm the cache, the leases and the JIT, alternating as the rounds do: each switch of
      // endpoint deoptimises shared code (Hono's dispatch, the Node adapter) for a few rounds
      // (seen with --trace-deopt: 17, 29, 11, then 0–4 per round), which would weigh on the first pairs.
      for (let i = 0; i < WARM_PAIRS; i++) {
        await round(whoami, 2);
        await round(healthz, 2);
      }
      // The control replays the answers just measured (the hot path's, now that it is warm).
      floor = await startNodeFloor({ healthz: await recordAnswer(healthz.url, healthz.headers), whoami: await recordAnswer(whoami.url, whoami.headers) }, serverCpus);
      const floorPid = floor.child.pid!;
      const floorWhoami: Target = { ...whoami, url: `${floor.url}/v1/whoami` };
      const floorHealthz: Target = { ...healthz, url: `${floor.url}/healthz` };
      for (let i = 0; i < WARM_PAIRS; i++) {
        await round(floorWhoami, 2, floorPid);
        await round(floorHealthz, 2, floorPid);
      }
      for (let i = 0; i < ROUNDS; i++) {
        // Alternating which endpoint goes first cancels a steady drift (the heap growing, another
        // process's load rising) that would otherwise always favour the same side of the ratio.
        // The control's pair runs right beside keyroll's, so both see the machine in the same state.
        const healthzFirst = i % 2 === 0;
        const keyrollPair = () =>
          measurePair(healthzFirst, () => ledRound(healthz, serverPid, rounds.afterIdleBaseline), () => ledRound(whoami, serverPid, rounds.afterIdleAuth));
        const floorPair = () => measurePair(!healthzFirst, () => ledRound(floorHealthz, floorPid), () => ledRound(floorWhoami, floorPid));
        let keyroll: { baseline: Round; auth: Round };
        let control: { baseline: Round; auth: Round };
        if (healthzFirst) {
          keyroll = await keyrollPair();
          control = await floorPair();
        } else {
          control = await floorPair();
          keyroll = await keyrollPair();
        }
        rounds.baseline.push(keyroll.baseline);
        rounds.auth.push(keyroll.auth);
        rounds.floorBaseline.push(control.baseline);
        rounds.floorAuth.push(control.auth);
        log(roundLine(i + 1, rounds.baseline[i], rounds.auth[i], rounds.floorBaseline[i], rounds.floorAuth[i]));
      }
    } finally {
      await server.stop();
      await floor?.stop();
    }

    const { auth, baseline, floorAuth, floorBaseline, afterIdleAuth, afterIdleBaseline } = rounds;
    const ratio = pairedRatios(auth.map((r) => r.rps), baseline.map((r) => r.rps));
    const floorRatio = pairedRatios(floorAuth.map((r) => r.rps), floorBaseline.map((r) => r.rps));
    // Per round, keyroll's ratio over the control's measured beside it: what keyroll's own work costs.
    const vsFloor = pairedRatios(ratio.ratios, floorRatio.ratios);
    // The throughput ratio a server limited by its own CPU would show: less moved by whatever else runs.
    const cpuRatio = pairedRatios(baseline.map((r) => r.cpuMicrosPerRequest), auth.map((r) => r.cpuMicrosPerRequest));
    const authCpu = median(auth.map((r) => r.cpuMicrosPerRequest));
    const baselineCpu = median(baseline.map((r) => r.cpuMicrosPerRequest));
    const p99DeltaMs = medianDifference(auth.map((r) => r.p99Ms), baseline.map((r) => r.p99Ms));
    const afterIdleRatio = pairedRatios(afterIdleAuth.map((r) => r.rps), afterIdleBaseline.map((r) => r.rps));
    const afterIdleP99DeltaMs = medianDifference(afterIdleAuth.map((r) => r.p99Ms), afterIdleBaseline.map((r) => r.p99Ms));
    const busy = [...auth, ...baseline].map((r) => r.serverBusyPct);
    const others = [...auth, ...baseline].map((r) => r.othersPct);
    const disturbed = auth.filter((r, i) => Math.max(r.othersPct, baseline[i].othersPct) > DISTURBED_PCT).length;
    const summary = {
      verifyPerSec: Math.round(verifyPerSec),
      ratio: roundTo(ratio.median, 3),
      ratioSpread: roundTo(ratio.spread, 3),
      ratioIqr: ratio.iqr === undefined ? null : roundTo(ratio.iqr, 3),
      ratios: ratio.ratios.map((r) => roundTo(r, 3)),
      rounds: ROUNDS,
      secondsPerRound: SECONDS_PER_ROUND,
      authRps: Math.round(median(auth.map((r) => r.rps))),
      baselineRps: Math.round(median(baseline.map((r) => r.rps))),
      authOverheadPct: roundTo((1 - ratio.median) * 100, 1),
      floorRatio: roundTo(floorRatio.median, 3),
      floorRatioIqr: floorRatio.iqr === undefined ? null : roundTo(floorRatio.iqr, 3),
      ratioVsFloor: roundTo(vsFloor.median, 3),
      ratioVsFloorIqr: vsFloor.iqr === undefined ? null : roundTo(vsFloor.iqr, 3),
      floorP99DeltaMs: roundTo(medianDifference(floorAuth.map((r) => r.p99Ms), floorBaseline.map((r) => r.p99Ms)), 3),
      authP50Ms: roundTo(median(auth.map((r) => r.p50Ms)), 3),
      authP99Ms: roundTo(median(auth.map((r) => r.p99Ms)), 3),
      baselineP50Ms: roundTo(median(baseline.map((r) => r.p50Ms)), 3),
      baselineP99Ms: roundTo(median(baseline.map((r) => r.p99Ms)), 3),
      p99DeltaMs: roundTo(p99DeltaMs, 3),
      afterIdleRatio: roundTo(afterIdleRatio.median, 3),
      afterIdleP99DeltaMs: roundTo(afterIdleP99DeltaMs, 3),
      leadInSeconds: LEAD_IN_SECONDS,
      authCpuMicrosPerRequest: roundTo(authCpu, 1),
      baselineCpuMicrosPerRequest: roundTo(baselineCpu, 1),
      authCpuOverheadPct: roundTo((authCpu / baselineCpu - 1) * 100, 1),
      cpuRatio: roundTo(cpuRatio.median, 3),
      cpuRatioSpread: roundTo(cpuRatio.spread, 3),
      serverBusyPctMin: Math.round(Math.min(...busy)),
      othersPctMax: Math.round(Math.max(...others)),
      disturbedRounds: disturbed,
      authNon2xx: auth.reduce((sum, r) => sum + r.non2xx, 0),
      loadGenerator,
      pinned: pinning.pinned,
      serverCpu: pinning.pinned ? pinning.serverCpu : null,
      loadCpus: pinning.pinned ? pinning.loadCpus : null,
      bundleBytes: cold.bundleBytes,
      bundleZipBytes: cold.bundleZipBytes,
      coldStartInitMs: roundTo(cold.initMs, 1),
      coldStartFirstAnswerMs: roundTo(cold.firstAnswerMs, 1),
      coldStartRuns: cold.runs,
      initNetworkAttempts: cold.initNetwork.length,
      emulatorIdlePriority: emulatorIdle === undefined,
      keyId: env.keyId,
    };
    const iqrText = (value: number | null) => (value === null ? `IQR needs ${MIN_ROUNDS_FOR_IQR}+ rounds` : `IQR ${value}`);
    const iqr = iqrText(summary.ratioIqr);
    log('');
    log(`whoami ÷ healthz throughput: median ${summary.ratio} over ${ROUNDS} round pairs (spread ${summary.ratioSpread} max−min, ${iqr}); auth costs ${summary.authOverheadPct}% (target ≤ 10 %)`);
    log(`  requests/s (medians): whoami ${summary.authRps}, healthz ${summary.baselineRps}`);
    log(
      `  control, a bare node:http server replaying the same two answers beside each pair: whoami ÷ healthz ${summary.floorRatio} (${iqrText(summary.floorRatioIqr)}), ` +
        `p99 difference ${signed(summary.floorP99DeltaMs)} ms; keyroll's ratio ÷ the control's: ${summary.ratioVsFloor} (${iqrText(summary.ratioVsFloorIqr)}), so keyroll's own work costs ${roundTo((1 - summary.ratioVsFloor) * 100, 1)}% and the bigger exchange itself ${roundTo((1 - summary.floorRatio) * 100, 1)}%`,
    );
    log(`  latency p50 / p99: whoami ${summary.authP50Ms} / ${summary.authP99Ms} ms, healthz ${summary.baselineP50Ms} / ${summary.baselineP99Ms} ms; p99 difference ${signed(summary.p99DeltaMs)} ms (median of per-round differences; target ≤ 1 ms)`);
    log(
      `  the first ${LEAD_IN_SECONDS} s after 6+ s idle (each round's lead-in, not in the figures above): whoami ÷ healthz ${summary.afterIdleRatio}, p99 difference ${signed(summary.afterIdleP99DeltaMs)} ms (the key cache re-read and the rate-limit lease ramp)`,
    );
    log(`  server CPU per request: ${summary.authCpuMicrosPerRequest} vs ${summary.baselineCpuMicrosPerRequest} µs (${signed(summary.authCpuOverheadPct)}%); as a ratio healthz ÷ whoami per round: median ${summary.cpuRatio} (spread ${summary.cpuRatioSpread})`);
    if (disturbed > 0) {
      log(`  warning: other programs took more than ${DISTURBED_PCT}% of a core in ${disturbed} of ${ROUNDS} round pairs (up to ${summary.othersPctMax}%); those pairs are noisier. Rerun on a quieter machine for a steady figure.`);
    }
    if (pinning.pinned && summary.serverBusyPctMin < SATURATED_PCT) {
      log(`  warning: in some rounds the server was busy only ${summary.serverBusyPctMin}% of its core, so something else (the load generator, another program) limited throughput and that round's ratio understates auth's cost.`);
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (cold.initNetwork.length > 0) {
      log(`FAIL: the service Lambda's init attempted ${cold.initNetwork.length} network call(s): ${describeNetwork(cold.initNetwork)}. Init must not reach the network; create clients lazily and make the first call in the handler.`);
      process.exitCode = 1;
    }
  } finally {
    await env.stop();
  }
}

async function inProcessVerifications({ store, documentClient, tables, key }: BenchEnvironment): Promise<number> {
  const verifier = new KeyVerifier({ store, environment: 'production', cache: { freshMs: 60_000, maxStaleMs: 120_000 } });
  const rateLimiter = new LeasedRateLimiter({ store: new DynamoDbRateLimitStore(documentClient, tables.rateLimits) });
  const usage = new UsageRecorder({ store, autoFlush: false });
  const once = async () => {
    const verification = await verifier.verify(key);
    if (!verification.ok) throw new Error(`bench key refused: ${verification.code}`);
    const decision = await rateLimiter.consume(verification.key.id, verification.key.rateLimit);
    if (!decision.allowed) throw new Error('bench key rate-limited');
    usage.record(verification.key.tenant, verification.key.id, 200);
  };
  for (let i = 0; i < 50_000; i++) await once(); // warm: cache, leases, JIT
  const best: number[] = [];
  for (let round = 0; round < 3; round++) {
    const count = 300_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await once();
    best.push(count / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  await rateLimiter.close();
  return Math.max(...best);
}

/** One round of each endpoint, back to back, in the order given. */
async function measurePair(baselineFirst: boolean, baseline: () => Promise<Round>, auth: () => Promise<Round>): Promise<{ baseline: Round; auth: Round }> {
  if (baselineFirst) {
    const first = await baseline();
    return { baseline: first, auth: await auth() };
  }
  const first = await auth();
  return { auth: first, baseline: await baseline() };
}

function roundLine(n: number, baseline: Round, auth: Round, floorBaseline: Round, floorAuth: Round): string {
  const side = (name: string, r: Round) =>
    `${name} ${Math.round(r.rps)} req/s p50/p99 ${r.p50Ms.toFixed(2)}/${r.p99Ms.toFixed(2)} ms ${r.cpuMicrosPerRequest.toFixed(1)} µs CPU/req (server busy ${Math.round(r.serverBusyPct)}%, others ${Math.round(r.othersPct)}%)`;
  const ratio = auth.rps / baseline.rps;
  const floorRatio = floorAuth.rps / floorBaseline.rps;
  return (
    `round ${n}: ${side('healthz', baseline)} | ${side('whoami', auth)} → ratio ${ratio.toFixed(3)}; ` +
    `control ${Math.round(floorBaseline.rps)} | ${Math.round(floorAuth.rps)} req/s → ${floorRatio.toFixed(3)}; keyroll ÷ control ${(ratio / floorRatio).toFixed(3)}`
  );
}

function coldStartLine(cold: ColdStart): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  const network = cold.initNetwork.length === 0 ? 'no network calls during init' : `${cold.initNetwork.length} NETWORK CALL(S) DURING INIT`;
  return (
    `service Lambda: bundle ${kb(cold.bundleBytes)} (${kb(cold.bundleZipBytes)} zipped); cold start in the emulator's invoker, median of ${cold.runs}: ` +
    `handler ready ${cold.initMs.toFixed(0)} ms after process start (range ${cold.initMinMs.toFixed(0)}–${cold.initMaxMs.toFixed(0)}; Node's own start-up ${cold.nodeBootMs.toFixed(0)} ms), ` +
    `first /healthz answered at ${cold.firstAnswerMs.toFixed(0)} ms; ${network}`
  );
}

function describeNetwork(attempts: ColdStart['initNetwork']): string {
  return [...new Set(attempts.map((a) => `${a.kind} ${a.target}`))].join(', ');
}

const signed = (value: number) => (value >= 0 ? `+${value}` : String(value));

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
