/**
 * Bundles one runtime entry point from `lambda/` with esbuild into a single CommonJS file, in a
 * folder of its own, ready to become a TerraformAsset. The output depends only on the sources, so
 * the asset hash (and the Lambda's code hash) only changes when the code does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { PROJECT_ROOT } from '../deploy-target';

export interface BundleOptions {
  /** Entry point relative to the project root, e.g. `lambda/serve/lambda-handler.ts`. */
  readonly entry: string;
  /** Folder name under the bundle cache. */
  readonly name: string;
  /** @default <project>/node_modules/.cache/keyroll/bundles */
  readonly outRoot?: string;
}

/** Returns the folder holding `index.js`; the handler is `index.handler`. */
export function bundleLambda(options: BundleOptions): string {
  const outDir = path.join(options.outRoot ?? path.join(PROJECT_ROOT, 'node_modules', '.cache', 'keyroll', 'bundles'), options.name);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [path.join(PROJECT_ROOT, options.entry)],
    outfile: path.join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
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
  return outDir;
}
