import { type CpuProfile, analyseProfile, categoryOf } from './cpu-profile';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

/**
 * (root) → parserOnIncoming (node:_http_server) → verify (lambda/verify) → digest (native)
 *        → (idle)
 */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('parserOnIncoming', 'node:_http_server'), children: [3] },
    { id: 3, callFrame: frame('verify', 'file:///work/main/lambda/verify/key-verifier.ts'), children: [4] },
    { id: 4, callFrame: frame('digest') },
    { id: 5, callFrame: frame('(idle)') },
  ],
  startTime: 1_000,
  endTime: 2_000,
  // One sample per 100 µs: at 1100, 1200, …, 1800.
  samples: [4, 4, 3, 2, 5, 5, 4, 5],
  timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100],
};

it('charges a native frame to its nearest JS caller’s part of the stack', () => {
  const breakdown = analyseProfile(PROFILE);
  expect(breakdown.samples).toBe(8);
  expect(breakdown.busySamples).toBe(5);
  expect(breakdown.functions[0]).toEqual({ frame: 'digest', category: 'keyroll lambda/verify', samples: 3 });
  expect(breakdown.selfByCategory.get('keyroll lambda/verify')).toBe(4); // digest 3 + verify 1
  expect(breakdown.selfByCategory.get('node:_http_* (HTTP server, outgoing headers)')).toBe(1);
});

it('counts a sample once for every part and frame on its stack', () => {
  const breakdown = analyseProfile(PROFILE);
  expect(breakdown.inclusiveByCategory.get('node:_http_* (HTTP server, outgoing headers)')).toBe(5);
  expect(breakdown.inclusiveByCategory.get('keyroll lambda/verify')).toBe(4);
  expect(breakdown.inclusiveByFrame.get('verify lambda/verify/key-verifier.ts:1')).toBe(4);
});

it('keeps only the samples inside the window, on the profile’s clock', () => {
  const breakdown = analyseProfile(PROFILE, { fromMicros: 1_450, toMicros: 1_800 });
  expect(breakdown.samples).toBe(4); // 1500 (idle), 1600 (idle), 1700 (digest), 1800 (idle)
  expect(breakdown.busySamples).toBe(1);
  expect(breakdown.sampleMicros).toBe(100);
});

it('names the parts by script: keyroll folders, Hono, the Node adapter, Node internals', () => {
  expect(categoryOf('file:///x/node_modules/@hono/node-server/dist/index.cjs', 'responseViaCache')).toMatch(/^@hono\/node-server/);
  expect(categoryOf('file:///x/node_modules/hono/dist/cjs/context.js', 'json')).toMatch(/^hono /);
  expect(categoryOf('file:///x/lambda/rate-limit/leased-rate-limiter.ts', 'consume')).toBe('keyroll lambda/rate-limit');
  expect(categoryOf('node:_http_outgoing', 'setHeader')).toMatch(/^node:_http_/);
  expect(categoryOf('', '(garbage collector)')).toBe('garbage collector');
});
