/**
 * `npm run bench`: what authentication costs on the hot path, measured side by side in one run.
 * 1. In-process: warm-cache verifications/s (verify + rate-limit decision + usage count), one core.
 * 2. Loopback: the same server's `GET /v1/whoami` (authenticated, rate-limited) against its
 *    `GET /healthz` (no auth), interleaved rounds, requests/s and p50/p99 from autocannon.
 * The last line is a JSON summary.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { useLocalAwsDefaults } from '../../lambda/cli/local-setup';
import { startLocalAws } from '../../lambda/local-aws';
import { KeyManager } from '../../lambda/manage/key-manager';
import { DynamoDbRateLimitStore, LeasedRateLimiter } from '../../lambda/rate-limit';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import { tableNamesFromEnv } from '../../lambda/store/table-names';
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
    await load(`${started.url}/v1/whoami`, { 'x-api-key': key }, 2); // warm the cache and the leases
    await load(`${started.url}/healthz`, {}, 2);
    const auth: autocannon.Result[] = [];
    const baseline: autocannon.Result[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      baseline.push(await load(`${started.url}/healthz`, {}, SECONDS_PER_ROUND));
      auth.push(await load(`${started.url}/v1/whoami`, { 'x-api-key': key }, SECONDS_PER_ROUND));
      log(`round ${round}: healthz ${Math.round(baseline.at(-1)!.requests.average)} req/s, whoami ${Math.round(auth.at(-1)!.requests.average)} req/s`);
    }
    const authRps = median(auth.map((r) => r.requests.average));
    const baselineRps = median(baseline.map((r) => r.requests.average));
    const non2xx = auth.reduce((sum, r) => sum + r.non2xx, 0);
    const summary = {
      verifyPerSec: Math.round(verifyPerSec),
      authRps: Math.round(authRps),
      baselineRps: Math.round(baselineRps),
      authOverheadPct: round1((1 - authRps / baselineRps) * 100),
      authP50Ms: median(auth.map((r) => r.latency.p50)),
      authP99Ms: median(auth.map((r) => r.latency.p99)),
      baselineP50Ms: median(baseline.map((r) => r.latency.p50)),
      baselineP99Ms: median(baseline.map((r) => r.latency.p99)),
      authNon2xx: non2xx,
      keyId: record.id,
    };
    log(`whoami vs healthz: ${summary.authRps} vs ${summary.baselineRps} req/s → auth overhead ${summary.authOverheadPct}%`);
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
    usage.record(verification.key.tenant, verification.key.id, false);
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

function load(url: string, headers: Record<string, string>, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, headers, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round1 = (value: number) => Math.round(value * 10) / 10;

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
