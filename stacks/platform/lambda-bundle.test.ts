import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { PROJECT_ROOT } from '../deploy-target';
import { bundleLambda } from './lambda-bundle';

// Counts builds; esbuild's exports cannot be spied on in place.
jest.mock('esbuild', () => {
  const actual = jest.requireActual('esbuild');
  return { ...actual, buildSync: jest.fn(actual.buildSync) };
});

describe('bundleLambda', () => {
  let work: string;
  let entry: string;
  let outRoot: string;
  const builds = jest.mocked(buildSync);
  const bundle = () => bundleLambda({ entry: path.relative(PROJECT_ROOT, entry), name: 'fn', outRoot });
  const writeSources = (answer: number) => {
    fs.writeFileSync(path.join(work, 'answer.ts'), `export const answer = ${answer};\n`);
    fs.writeFileSync(entry, "import { answer } from './answer';\nexport const handler = async () => answer;\n");
  };

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-bundle-'));
    entry = path.join(work, 'handler.ts');
    outRoot = path.join(work, 'bundles');
    writeSources(1);
    builds.mockClear();
  });

  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  const handlerIn = (dir: string): (() => Promise<number>) => jest.requireActual(path.join(dir, 'index.js')).handler;

  it('runs esbuild once per process while the sources are unchanged, and again when any of them changes', async () => {
    const first = bundle();
    expect(bundle()).toBe(first);
    expect(builds).toHaveBeenCalledTimes(1);

    // A file the entry imports, not the entry itself: every input counts.
    fs.writeFileSync(path.join(work, 'answer.ts'), 'export const answer = 2;\n');
    const second = bundle();
    expect(builds).toHaveBeenCalledTimes(2);
    expect(second).not.toBe(first);
    await expect(handlerIn(second)()).resolves.toBe(2);
    await expect(handlerIn(first)()).resolves.toBe(1);
  });

  it('names the folder for the code, so the same code lands in the same folder', () => {
    const first = bundle();
    writeSources(2);
    bundle();
    writeSources(1);
    expect(bundle()).toBe(first);
    expect(path.basename(first)).toMatch(/^fn-[0-9a-f]{16}$/);
    expect(fs.readdirSync(first)).toEqual(['index.js']);
  });

  it("removes the function's bundles older than an hour, and keeps recent ones another process may still be reading", () => {
    const stale = path.join(outRoot, 'fn-0000000000000000');
    const recent = path.join(outRoot, 'fn-1111111111111111');
    const otherFunction = path.join(outRoot, 'fn-other-0000000000000000');
    for (const dir of [stale, recent, otherFunction]) fs.mkdirSync(dir, { recursive: true });
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const dir of [stale, otherFunction]) fs.utimesSync(dir, twoHoursAgo, twoHoursAgo);
    const current = bundle();
    expect(fs.readdirSync(outRoot).sort()).toEqual([path.basename(current), 'fn-1111111111111111', 'fn-other-0000000000000000'].sort());
  });
});
