/**
 * Bundles one runtime entry point from `lambda/` with esbuild into a single CommonJS file, in a
 * folder named for its content, ready to become a TerraformAsset. The output depends only on the
 * sources, so the asset hash (and the Lambda's code hash) only changes when the code does.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { PROJECT_ROOT } from '../deploy-target';

/**
 * The oldest Node the bundles run on. Lambda runs them on nodejs22.x, but the emulator's local
 * invoker runs them on this machine's Node (20, see README), and so do tests that create functions.
 * esbuild only lowers syntax for this target, so a node20 bundle runs on both; for today's sources
 * it is byte-for-byte the node22 bundle.
 */
export const BUNDLE_TARGET = 'node20';

/** Bundles older than this are removed when a newer one of the same function is written. */
const STALE_BUNDLE_MS = 60 * 60 * 1000;

export interface BundleOptions {
  /** Entry point relative to the project root, e.g. `lambda/serve/lambda-handler.ts`. */
  readonly entry: string;
  /** Folder name prefix under the bundle cache. */
  readonly name: string;
  /** @default <project>/node_modules/.cache/keyroll/bundles */
  readonly outRoot?: string;
}

interface Bundle {
  readonly outDir: string;
  /** Digest of every file esbuild read, so a later call can tell whether the sources changed. */
  readonly inputsDigest: string;
  readonly inputs: readonly string[];
}

/**
 * Bundles built by this process. A synth builds each function once; the stacks' unit tests build
 * dozens of apps per process and reuse the bundle while its sources are unchanged, instead of
 * running esbuild for every app.
 */
const bundles = new Map<string, Bundle>();

/**
 * Returns the folder holding `index.js`; the handler is `index.handler`. The folder is
 * `<name>-<hash of the code>` and is written once, atomically: processes synthesizing at the same
 * time (parallel test workers, a deploy beside a test run) never see each other's half-written or
 * deleted files.
 */
export function bundleLambda(options: BundleOptions): string {
  const outRoot = options.outRoot ?? path.join(PROJECT_ROOT, 'node_modules', '.cache', 'keyroll', 'bundles');
  const key = JSON.stringify([options.entry, options.name, outRoot]);
  const known = bundles.get(key);
  if (known && fs.existsSync(known.outDir) && digestOf(known.inputs) === known.inputsDigest) return known.outDir;

  const result = buildSync({
    entryPoints: [path.join(PROJECT_ROOT, options.entry)],
    outfile: 'index.js',
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: BUNDLE_TARGET,
    format: 'cjs',
    // The SDK is bundled too: Lambda's built-in copy changes under us; ours is pinned and tested.
    external: [],
    minify: true,
    // No keepNames: it wraps every function created at run time in a defineProperty call, which
    // costs the request hot path measurably (see `npm run bench`). Errors carry explicit names.
    legalComments: 'none',
    logLevel: 'error',
    absWorkingDir: PROJECT_ROOT,
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${options.entry}: check that it exports \`handler\` and builds with \`npx tsc --noEmit\`.`);
  const outDir = path.join(outRoot, `${options.name}-${createHash('sha256').update(output.contents).digest('hex').slice(0, 16)}`);
  if (fs.existsSync(outDir)) {
    // Marks it in use, so that another process's clean-up does not take it as stale.
    const now = new Date();
    fs.utimesSync(outDir, now, now);
  } else {
    publish(outRoot, outDir, output.contents);
  }
  removeStaleBundles(outRoot, options.name, outDir);
  const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(PROJECT_ROOT, input));
  bundles.set(key, { outDir, inputs, inputsDigest: digestOf(inputs) });
  return outDir;
}

/** Writes `index.js` in a folder of its own, then renames it into place in one step. */
function publish(outRoot: string, outDir: string, code: Uint8Array): void {
  const staging = path.join(outRoot, `.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(staging, { recursive: true });
  fs.writeFileSync(path.join(staging, 'index.js'), code);
  try {
    fs.renameSync(staging, outDir);
  } catch (error) {
    // Another process published the same bundle first: its folder holds the same bytes.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(outDir)) throw error;
  }
}

/**
 * Removes this function's older bundles (and the folder the pre-hash layout used) and abandoned
 * staging folders, once nothing can still be reading them.
 */
function removeStaleBundles(outRoot: string, name: string, current: string): void {
  const ours = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-[0-9a-f]{16})?$`);
  for (const entry of fs.readdirSync(outRoot)) {
    const dir = path.join(outRoot, entry);
    if (dir === current || !(ours.test(entry) || entry.startsWith('.staging-'))) continue;
    try {
      if (Date.now() - fs.statSync(dir).mtimeMs > STALE_BUNDLE_MS) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another process: nothing left to do.
    }
  }
}

function digestOf(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file);
    try {
      hash.update(fs.readFileSync(file));
    } catch {
      hash.update('\0missing');
    }
  }
  return hash.digest('hex');
}
