/**
 * The cold-start probe inside the emulator's real handler runner (run-node-handler.cjs): it must
 * see a connection a handler module makes while loading, or the bench's "init makes no network
 * calls" would pass on code that does.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const RUNNER = path.resolve(__dirname, '../../lambda/local-aws/run-node-handler.cjs');
const PROBE = path.join(__dirname, 'cold-start-probe.cjs');

function runCold(handlerSource: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-probe-test-'));
  try {
    fs.writeFileSync(path.join(dir, 'index.js'), handlerSource);
    const spec = path.join(dir, 'invocation.json');
    const resultFile = path.join(dir, 'result.json');
    fs.writeFileSync(spec, JSON.stringify({ taskRoot: dir, handler: 'index.handler', event: '{}', resultFile, context: { awsRequestId: 'r', deadlineMs: Date.now() + 10_000 } }));
    const out = path.join(dir, 'probe.jsonl');
    execFileSync(process.execPath, [RUNNER, spec], {
      cwd: dir,
      env: { PATH: process.env.PATH, LAMBDA_TASK_ROOT: dir, KEYROLL_COLD_START_SETTLE_MS: '50', NODE_OPTIONS: `--require ${PROBE}`, KEYROLL_COLD_START_OUT: out },
      stdio: 'ignore',
    });
    return { record: JSON.parse(fs.readFileSync(out, 'utf8')), result: JSON.parse(fs.readFileSync(resultFile, 'utf8')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

it('records ready and answer times, and no network for a handler that makes none', () => {
  const { record, result } = runCold("exports.handler = async () => ({ statusCode: 200 });");
  expect(result.ok).toBe(true);
  expect(record.readyMs).toBeGreaterThan(record.probeMs);
  expect(record.calledMs).toBeGreaterThanOrEqual(record.readyMs + 50); // held back by the settle time
  expect(record.answeredMs).toBeGreaterThanOrEqual(record.calledMs);
  expect(record.network).toEqual([]);
});

it('records a connection made while the module loads as init, and one made by the handler as invoke', () => {
  const { record } = runCold(
    [
      "const net = require('node:net');",
      "net.connect({ host: '127.0.0.1', port: 9 }).on('error', () => {});", // at load: init
      "exports.handler = async () => { require('node:net').connect(9, '127.0.0.1').on('error', () => {}); return 1; };",
    ].join('\n'),
  );
  expect(record.network.map((n: { phase: string; kind: string; target: string }) => [n.phase, n.kind, n.target])).toEqual([
    ['init', 'tcp', '127.0.0.1:9'],
    ['invoke', 'tcp', '127.0.0.1:9'],
  ]);
});

it('counts a connection init only starts (fetch, after the module has loaded) as init', () => {
  // Not port 9: fetch refuses it (a "bad port") without connecting.
  const { record } = runCold("fetch('http://127.0.0.1:45679/').catch(() => {}); exports.handler = async () => 1;");
  expect(record.network.some((n: { phase: string; kind: string }) => n.phase === 'init' && n.kind === 'tcp')).toBe(true);
});
