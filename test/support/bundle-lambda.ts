/** Bundles a Lambda entry point into one CommonJS file with esbuild, as a deploy does, for functions the tests create. */
import { build } from 'esbuild';
import { BUNDLE_TARGET } from '../../stacks/platform/lambda-bundle';

export interface BundleOptions {
  /**
   * Packages left out of the bundle, e.g. `['@aws-sdk/*']` to use the SDK of Lambda's runtime.
   * @default [] (everything bundled, so the function runs the versions package.json pins)
   */
  readonly external?: readonly string[];
  /**
   * The oldest Node the bundle must run on.
   * @default BUNDLE_TARGET, as deployed bundles: they run on Lambda's nodejs22.x and on this machine's Node in the emulator
   */
  readonly target?: string;
}

/**
 * Returns the bundle's source, ready to zip as `index.js` for `Handler: 'index.handler'`.
 *
 * @example
 * const code = await bundleLambda('lambda/provision/handler.ts');
 * await createNodeFunction(lambda, { 'index.js': code });
 */
export async function bundleLambda(entry: string, options: BundleOptions = {}): Promise<string> {
  const { external, target } = { external: [] as readonly string[], target: BUNDLE_TARGET, ...options };
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target,
    external: [...external],
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}.`);
  return output.text;
}
