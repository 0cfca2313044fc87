/**
 * Reads a V8 CPU profile (`node --cpu-prof`'s .cpuprofile) into where the time went: self time
 * per function and per part of the stack (keyroll's modules, Hono, the Node adapter, Node's HTTP),
 * and the share of samples spent anywhere under each part. Pure: no files, no processes.
 */

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  /** Microseconds, on the machine's monotonic clock (as process.hrtime). */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The parts of the stack the report names, first match wins; `url` is the frame's script. */
export const CATEGORIES: readonly { readonly name: string; readonly test: (url: string, functionName: string) => boolean }[] = [
  { name: 'idle', test: (_, fn) => fn === '(idle)' },
  { name: 'garbage collector', test: (_, fn) => fn === '(garbage collector)' },
  { name: 'V8/native outside JS (program)', test: (_, fn) => fn === '(program)' },
  { name: 'keyroll lambda/verify', test: (url) => url.includes('/lambda/verify/') },
  { name: 'keyroll lambda/rate-limit', test: (url) => url.includes('/lambda/rate-limit/') },
  { name: 'keyroll lambda/usage', test: (url) => url.includes('/lambda/usage/') },
  { name: 'keyroll lambda/serve', test: (url) => url.includes('/lambda/serve/') },
  { name: 'keyroll lambda/ (other)', test: (url) => url.includes('/lambda/') },
  { name: '@hono/node-server (Node ↔ Request/Response)', test: (url) => url.includes('/@hono/node-server/') },
  { name: 'hono (router, context, middleware)', test: (url) => url.includes('/node_modules/hono/') },
  { name: 'undici (Headers, Request, Response)', test: (url) => url.includes('undici') },
  { name: 'node:_http_* (HTTP server, outgoing headers)', test: (url) => url.startsWith('node:_http') },
  // stream_base_commons holds writev/writeGeneric: the socket write syscalls (on loopback the kernel's
  // TCP work for both ends happens inside them).
  { name: 'node net / streams / socket writes', test: (url) => ['node:net', 'node:stream', 'node:internal/stream_base_commons'].includes(url) || url.startsWith('node:internal/streams') },
  { name: 'node (other)', test: (url) => url.startsWith('node:') },
  { name: 'other', test: () => true },
];

const SPECIAL = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

export interface FunctionTime {
  /** `name file:line` of the frame. */
  readonly frame: string;
  /** The category of the frame, or of its nearest caller with a script for a native frame. */
  readonly category: string;
  readonly samples: number;
}

export interface ProfileBreakdown {
  /** Samples in the window, of every kind (idle included). */
  readonly samples: number;
  /** Samples that were not idle: the CPU time, in samples. */
  readonly busySamples: number;
  /** Mean microseconds per sample in the window. */
  readonly sampleMicros: number;
  /** Self time per function, most first. */
  readonly functions: readonly FunctionTime[];
  /** Self time per category (native frames counted in their caller's category), in samples. */
  readonly selfByCategory: ReadonlyMap<string, number>;
  /** Samples with the category anywhere on the stack (a sample counts once per category). */
  readonly inclusiveByCategory: ReadonlyMap<string, number>;
  /** Samples with the frame anywhere on the stack, for frames with a script. */
  readonly inclusiveByFrame: ReadonlyMap<string, number>;
}

export function categoryOf(url: string, functionName: string): string {
  return CATEGORIES.find((category) => category.test(url, functionName))!.name;
}

function frameName(node: CpuProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\/.*?\/(node_modules|lambda)\//, '$1/');
  return `${functionName || '(anonymous)'}${url ? ` ${file}:${lineNumber + 1}` : ''}`;
}

/**
 * @param window only samples taken within [fromMicros, toMicros] on the monotonic clock count, so
 * start-up and warm-up stay out of the figures. @default the whole profile
 */
export function analyseProfile(profile: CpuProfile, window?: { fromMicros: number; toMicros: number }): ProfileBreakdown {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // A native frame (no script: a builtin, a C++ binding) is charged to its nearest JS caller's category.
  const attributedCategory = new Map<number, string>();
  const categoryFor = (id: number): string => {
    const known = attributedCategory.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const { url, functionName } = node.callFrame;
    const up = parent.get(id);
    const category = url || SPECIAL.has(functionName) || up === undefined ? categoryOf(url, functionName) : categoryFor(up);
    attributedCategory.set(id, category);
    return category;
  };

  const self = new Map<number, number>();
  let time = profile.startTime;
  let windowStart: number | undefined;
  let windowEnd = time;
  let samples = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i];
    if (window && (time < window.fromMicros || time > window.toMicros)) continue;
    windowStart ??= time;
    windowEnd = time;
    samples++;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + 1);
  }

  const functions: FunctionTime[] = [];
  const selfByCategory = new Map<string, number>();
  const inclusiveByCategory = new Map<string, number>();
  const inclusiveByFrame = new Map<string, number>();
  let idle = 0;
  for (const [id, count] of self) {
    const node = byId.get(id)!;
    const category = categoryFor(id);
    if (node.callFrame.functionName === '(idle)') idle += count;
    functions.push({ frame: frameName(node), category, samples: count });
    selfByCategory.set(category, (selfByCategory.get(category) ?? 0) + count);
    const categories = new Set<string>();
    const frames = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      categories.add(categoryOf(frame.callFrame.url, frame.callFrame.functionName));
      if (frame.callFrame.url) frames.add(frameName(frame));
    }
    for (const category of categories) inclusiveByCategory.set(category, (inclusiveByCategory.get(category) ?? 0) + count);
    for (const frame of frames) inclusiveByFrame.set(frame, (inclusiveByFrame.get(frame) ?? 0) + count);
  }
  functions.sort((a, b) => b.samples - a.samples);
  return {
    samples,
    busySamples: samples - idle,
    sampleMicros: samples > 1 ? (windowEnd - windowStart!) / (samples - 1) : 0,
    functions,
    selfByCategory,
    inclusiveByCategory,
    inclusiveByFrame,
  };
}
