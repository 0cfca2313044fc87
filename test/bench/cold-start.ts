/**
 * The service Lambda's cold start, measured by the local emulator's own invoker: the bundle the
 * platform stack deploys (stacks/platform/lambda-bundle.ts, same options), created as a function in
 * the emulator and invoked N times. The invoker starts a fresh Node process for every invocation
 * (lambda/local-aws/lambda_node_process.py → run-node-handler.cjs), so each one is a cold start;
 * cold-start-probe.cjs, preloaded into that process, records from process start to handler ready
 * and every network attempt made before the handler is first called. Init must make none: AWS is pointed at a closed port
 * for these invocations, and any attempt is reported.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, DeleteFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { bundleLambda } from '../../stacks/platform/lambda-bundle';
import type { TableNames } from '../../lambda/tables/table-names';
import { zip } from '../local-aws/fixtures';
import { median } from './bench-stats';

/** The service function as stacks/platform/platform-stack.ts declares it (entry, name, handler). */
const SERVICE = { entry: 'lambda/serve/lambda-handler.ts', functionName: 'keyroll-service', handler: 'index.handler' } as const;
const PROBE = path.join(__dirname, 'cold-start-probe.cjs');

export interface NetworkAttempt {
  readonly phase: 'init' | 'invoke';
  readonly kind: 'tcp' | 'udp' | 'dns';
  readonly target: string;
}

export interface ColdStart {
  /** Size of the bundle's index.js, as deployed. */
  readonly bundleBytes: number;
  /** Size of the same file zipped (deflate), about what Lambda stores. */
  readonly bundleZipBytes: number;
  readonly runs: number;
  /** Median, process start → handler module loaded and `handler` exported. */
  readonly initMs: number;
  readonly initMinMs: number;
  readonly initMaxMs: number;
  /** Median, process start → Node done with its own start-up (the probe is the first user code). */
  readonly nodeBootMs: number;
  /** Median, process start → first `GET /healthz` answered (init + building the service + the request). */
  readonly firstAnswerMs: number;
  /** Network attempts during init, over all runs; must be none. */
  readonly initNetwork: readonly NetworkAttempt[];
  /** Network attempts while answering the first `/healthz`, over all runs (informational). */
  readonly invokeNetwork: readonly NetworkAttempt[];
}

interface ProbeRecord {
  readonly probeMs: number;
  readonly readyMs?: number;
  /** When the handler was called: readyMs plus the probe's settle time. */
  readonly calledMs?: number;
  readonly answeredMs?: number;
  readonly network: readonly NetworkAttempt[];
}

export interface ColdStartOptions {
  /** Invocations, each a cold start. @default 10 */
  readonly runs?: number;
  /** Table names the function is configured with (its init reads none of them). */
  readonly tables: TableNames;
}

/** Needs AWS_ENDPOINT_URL pointing at a running emulator. */
export async function measureColdStart(options: ColdStartOptions): Promise<ColdStart> {
  const runs = options.runs ?? 10;
  const code = fs.readFileSync(path.join(bundleLambda({ entry: SERVICE.entry, name: SERVICE.functionName }), 'index.js'));
  const archive = zip({ 'index.js': code.toString('utf8') });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-cold-start-'));
  const out = path.join(scratch, 'probe.jsonl');
  const lambda = new LambdaClient({});
  const iam = new IAMClient({});
  const functionName = `${SERVICE.functionName}-cold-start-${process.pid}`;
  try {
    const role = await iam.send(new CreateRoleCommand({ RoleName: functionName, AssumeRolePolicyDocument: '{}' }));
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: functionName,
        Runtime: 'nodejs22.x',
        Handler: SERVICE.handler,
        Role: role.Role!.Arn!,
        Code: { ZipFile: archive },
        Timeout: 10,
        MemorySize: 512,
        Environment: {
          Variables: {
            KEYROLL_KEYS_TABLE: options.tables.keys,
            KEYROLL_RATE_LIMITS_TABLE: options.tables.rateLimits,
            KEYROLL_TELEMETRY_TABLE: options.tables.telemetry,
            KEYROLL_ENVIRONMENT: 'production',
            POWERTOOLS_SERVICE_NAME: 'keyroll',
            // Overrides the emulator's own endpoint (the invoker only sets it when unset): a call
            // made during init fails fast instead of quietly succeeding against the emulator.
            AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}`,
            NODE_OPTIONS: `--require ${PROBE}`,
            KEYROLL_COLD_START_OUT: out,
          },
        },
      }),
    );
    for (let run = 0; run < runs; run++) {
      const answer = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(healthzEvent())) }));
      const payload = Buffer.from(answer.Payload ?? []).toString('utf8');
      if (answer.FunctionError || JSON.parse(payload).statusCode !== 200) {
        throw new Error(`cold-start invocation ${run + 1} of ${functionName} failed (${answer.FunctionError ?? 'status'}): ${payload}`);
      }
    }
    const records = fs.readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as ProbeRecord);
    if (records.length !== runs || records.some((r) => r.readyMs === undefined || r.calledMs === undefined || r.answeredMs === undefined)) {
      throw new Error(`the cold-start probe recorded ${records.length} of ${runs} runs, some without a ready or answer time: is NODE_OPTIONS reaching the emulator's Lambda process?`);
    }
    const init = records.map((r) => r.readyMs!);
    const network = records.flatMap((r) => r.network.map(({ phase, kind, target }) => ({ phase, kind, target })));
    return {
      bundleBytes: code.length,
      bundleZipBytes: archive.length,
      runs,
      initMs: median(init),
      initMinMs: Math.min(...init),
      initMaxMs: Math.max(...init),
      nodeBootMs: median(records.map((r) => r.probeMs)),
      // Without the probe's settle time, which Lambda does not have.
      firstAnswerMs: median(records.map((r) => r.readyMs! + (r.answeredMs! - r.calledMs!))),
      initNetwork: network.filter((attempt) => attempt.phase === 'init'),
      invokeNetwork: network.filter((attempt) => attempt.phase === 'invoke'),
    };
  } finally {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: functionName })).catch(() => undefined);
    lambda.destroy();
    iam.destroy();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** A loopback port nothing listens on (bound, then released), so a connection to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `GET /healthz` as a function URL delivers it (payload format 2.0); it touches no AWS service. */
function healthzEvent() {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/healthz',
    rawQueryString: '',
    headers: { host: 'keyroll.lambda-url.us-east-1.on.aws' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'keyroll',
      domainName: 'keyroll.lambda-url.us-east-1.on.aws',
      domainPrefix: 'keyroll',
      http: { method: 'GET', path: '/healthz', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'keyroll-bench' },
      requestId: `cold-start-${now.getTime()}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: null,
    isBase64Encoded: false,
  };
}
