import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claimRunFile, readRunFile } from './run-file';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-run-file-'));
const file = path.join(dir, 'run', 'start.json');
afterEach(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A pid that certainly belongs to no process: one that just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('claimRunFile', () => {
  it('creates the file with this pid, records updates, and removes it on release', () => {
    const held = claimRunFile({ environment: 'production' }, file);
    expect(readRunFile(file)).toMatchObject({ pid: process.pid, environment: 'production' });
    held.update({ url: 'http://127.0.0.1:8787' });
    expect(readRunFile(file)).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:8787' });
    held.release();
    held.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses while the process in the file runs, naming its URL, and leaves the file alone', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const running = { pid: process.ppid, url: 'http://127.0.0.1:9999', emulatorEndpoint: 'http://127.0.0.1:4566', startedAt: '2026-12-01T00:00:00.000Z' };
    fs.writeFileSync(file, JSON.stringify(running));
    expect(() => claimRunFile({}, file)).toThrow(expect.objectContaining({ code: 'ALREADY_RUNNING', message: expect.stringContaining('keyroll is already running at http://127.0.0.1:9999') }));
    expect(readRunFile(file)).toEqual(running);
  });

  it('takes over a file whose process is gone, or that is not a run file', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ pid: await deadPid(), url: 'http://127.0.0.1:1', startedAt: 'then' }));
    claimRunFile({}, file).release();
    fs.writeFileSync(file, 'not json');
    const held = claimRunFile({}, file);
    expect(readRunFile(file)?.pid).toBe(process.pid);
    held.release();
  });

  it('leaves a file another process took over alone on release', () => {
    const held = claimRunFile({}, file);
    const other = { pid: process.ppid, startedAt: 'later' };
    fs.writeFileSync(file, JSON.stringify(other));
    held.release();
    expect(readRunFile(file)).toEqual(other);
  });
});
