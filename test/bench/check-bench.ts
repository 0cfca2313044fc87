/**
 * `npx tsx test/bench/check-bench.ts`: how fast `keyroll check` answers, so a bad keys file is
 * refused in well under a second instead of after a cdktf synth.
 * 1. The real CLI (`node lambda/cli/bin.cjs check`), end to end, on the example and on a file
 *    with five mistakes: median and worst wall time of 10 runs each.
 * 2. In-process: the check alone, once its modules are loaded.
 * The last line is a JSON summary.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'lambda', 'cli', 'bin.cjs');
const FILES = { example: path.join(ROOT, 'stacks', 'keys.yaml'), fiveMistakes: path.join(ROOT, 'stacks', 'keys', '__fixtures__', 'five-mistakes.yaml') };
const RUNS = 10;

function cli(file: string): { medianMs: number; maxMs: number } {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    spawnSync(process.execPath, [BIN, 'check', '--file', file], { cwd: ROOT, stdio: 'ignore' });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { medianMs: Math.round(times[Math.floor(RUNS / 2)]), maxMs: Math.round(times[RUNS - 1]) };
}

const loadStart = performance.now();
// Required here rather than imported at the top, so that loading it is what is timed.
const { checkKeysFile } = require('../../stacks/keys/keys-file-check') as typeof import('../../stacks/keys/keys-file-check');
const loadMs = performance.now() - loadStart;
const checkStart = performance.now();
for (let i = 0; i < 100; i++) checkKeysFile(FILES.fiveMistakes);
const checkMs = (performance.now() - checkStart) / 100;

const summary = {
  cliExample: cli(FILES.example),
  cliFiveMistakes: cli(FILES.fiveMistakes),
  inProcess: { moduleLoadMs: Math.round(loadMs), checkMs: Number(checkMs.toFixed(2)) },
};
console.log(`keyroll check, example file:       median ${summary.cliExample.medianMs} ms, worst ${summary.cliExample.maxMs} ms`);
console.log(`keyroll check, five mistakes:      median ${summary.cliFiveMistakes.medianMs} ms, worst ${summary.cliFiveMistakes.maxMs} ms`);
console.log(`in process: modules ${summary.inProcess.moduleLoadMs} ms once, then ${summary.inProcess.checkMs} ms per check`);
console.log(JSON.stringify(summary));
