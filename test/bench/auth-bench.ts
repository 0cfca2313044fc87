/**
 * `npm run bench`: what authentication costs on the hot path, measured side by side in one run.
 * 1. In-process: warm-cache verifications/s (verify + rate-limit decision + usage count), one core.
 * 2. Loopback: the same server's `GET /v1/whoami` (authenticated, rate-limited) against its
 *    `GET /healthz` (no auth), interleaved rounds: requests/s and p50/p99, plus the server
 *    process's own CPU time per request (from /proc), which the load generator can't skew.
 *    The load comes from `wrk` when it is installed (a C client that stays out of the server's
 *    way on two cores; `apt-get install wrk`), else from autocannon.
 * The last line is a JSON summary.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { useLocalAwsDefaults } from '../../lambda/deploy-env/local-endpoint';
import { startLocalAws } from '../../lambda/local-aws';
import { KeyManager } from '../../lambda/manage/key-manager';
import { DynamoDbRateLimitStore, LeasedRateLimiter } from '../../lambda/rate-limit';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import { tableNamesFromEnv } from '../../lambda/tables/table-names';
import { UsageRecorder } from '../../lambda/usage/usage-recorder';
import { KeyVerifier } from '../../lambda/verify/key-verifier';

const SECONDS_PER_ROUND = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 32;
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  const localAws = await startLocalAws({ quiet: true });
  let server: ChildProcess | undefined;
  try {
    useLocalAwsDefaults(localAws.endpoint);
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const tables = tableNamesFromEnv();
    await ensureLocalTables(tables);
    const documentClient = createDocumentClient();
    const store = new DynamoDbKeyStore(documentClient, tables.keys);
    const { record, key } = await new KeyManager({ store }).create('bench', {
      name: 'bench',
      environment: 'production',
      permissions: ['telemetry:write'],
      rateLimit: { limit: 1_000_000_000, windowSeconds: 60 },
    });

    const verifyPerSec = await inProcessVerifications(store, documentClient, tables.rateLimits, key);
    log(`in-process: ${Math.round(verifyPerSec).toLocaleString('en')} verifications/s (warm cache, verify + rate limit + usage)`);

    const started = await startServerProcess();
    server = started.child;
    const loadGenerator = hasWrk() ? 'wrk' : 'autocannon';
    log(`load generator: ${loadGenerator}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS_PER_ROUND} s per endpoint`);
    const whoami = { url: `${started.url}/v1/whoami`, headers: { 'x-api-key': key } };
    const healthz = { url: `${started.url}/healthz`, headers: {} };
    await measure(loadGenerator, server.pid!, whoami, 2); // warm the cache, the leases and the JIT
    await measure(loadGenerator, server.pid!, healthz, 2);
    const auth: Round[] = [];
    const baseline: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      baseline.push(await measure(loadGenerator, server.pid!, healthz, SECONDS_PER_ROUND));
      auth.push(await measure(loadGenerator, server.pid!, whoami, SECONDS_PER_ROUND));
      const [b, a] = [baseline.at(-1)!, auth.at(-1)!];
      log(`round ${round}: healthz ${Math.round(b.rps)} req/s (${b.cpuMicrosPerRequest.toFixed(1)} µs CPU/req), whoami ${Math.round(a.rps)} req/s (${a.cpuMicrosPerRequest.toFixed(1)} µs CPU/req)`);
    }
    const authRps = median(auth.map((r) => r.rps));
    const baselineRps = median(baseline.map((r) => r.rps));
    const authCpu = median(auth.map((r) => r.cpuMicrosPerRequest));
    const baselineCpu = median(baseline.map((r) => r.cpuMicrosPerRequest));
    const summary = {
      verifyPerSec: Math.round(verifyPerSec),
      authRps: Math.round(authRps),
      baselineRps: Math.round(baselineRps),
      authOverheadPct: round1((1 - authRps / baselineRps) * 100),
      authP50Ms: median(auth.map((r) => r.p50Ms)),
      authP99Ms: median(auth.map((r) => r.p99Ms)),
      baselineP50Ms: median(baseline.map((r) => r.p50Ms)),
      baselineP99Ms: median(baseline.map((r) => r.p99Ms)),
      authCpuMicrosPerRequest: round1(authCpu),
      baselineCpuMicrosPerRequest: round1(baselineCpu),
      authCpuOverheadPct: round1((authCpu / baselineCpu - 1) * 100),
      authNon2xx: auth.reduce((sum, r) => sum + r.non2xx, 0),
      loadGenerator,
      keyId: record.id,
    };
    log(`whoami vs healthz: ${summary.authRps} vs ${summary.baselineRps} req/s → throughput cost of auth ${summary.authOverheadPct}%; server CPU ${summary.authCpuMicrosPerRequest} vs ${summary.baselineCpuMicrosPerRequest} µs/req`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    server?.kill('SIGTERM');
    await localAws.stop();
  }
}

async function inProcessVerifications(
  store: DynamoDbKeyStore,
  documentClient: ReturnType<typeof createDocumentClient>,
  rateLimitTable: string,
  key: string,
): Promise<number> {
  const verifier = new KeyVerifier({ store, environment: 'production', cache: { freshMs: 60_000, maxStaleMs: 120_000 } });
  const rateLimiter = new LeasedRateLimiter({ store: new DynamoDbRateLimitStore(documentClient, rateLimitTable) });
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

async function startServerProcess(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['lambda/cli/bin.cjs', 'serve'], {
    env: { ...process.env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let output = '';
  child.stderr!.setEncoding('utf8');
  for await (const chunk of child.stderr!) {
    output += chunk;
    const match = /serving at (http:\/\/\S+)/.exec(output);
    if (match) {
      child.stderr!.resume();
      return { child, url: match[1] };
    }
  }
  await once(child, 'exit').catch(() => undefined);
  throw new Error(`keyroll serve did not start:\n${output}`);
}

interface Round {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly cpuMicrosPerRequest: number;
}

interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
}

function hasWrk(): boolean {
  return process.env.BENCH_LOAD !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;
}

/** utime + stime of a process, in microseconds (Linux /proc; clock ticks are 100 Hz). */
function cpuMicros(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function measure(generator: string, serverPid: number, target: Target, seconds: number): Promise<Round> {
  const cpuBefore = cpuMicros(serverPid);
  const result = generator === 'wrk' ? await wrk(target, seconds) : await autocannonRound(target, seconds);
  const cpu = cpuMicros(serverPid) - cpuBefore;
  return { ...result, cpuMicrosPerRequest: cpu / result.requests };
}

async function autocannonRound(target: Target, seconds: number) {
  const result = await autocannon({ url: target.url, headers: target.headers, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  return { rps: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, requests: result.requests.total };
}

/** wrk with a Lua `done` hook that prints the numbers as JSON. */
async function wrk(target: Target, seconds: number) {
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
  const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, ...headers, target.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  await once(child, 'exit');
  const line = output.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no summary:\n${output}`);
  const r = JSON.parse(line);
  return { rps: r.requests / (r.durationUs / 1e6), p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, non2xx: r.non2xx, requests: r.requests };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round1 = (value: number) => Math.round(value * 10) / 10;

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
