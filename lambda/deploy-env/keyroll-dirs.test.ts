import * as fs from 'node:fs';
import * as path from 'node:path';
import { AWS_STATE_DIR, clearLocalState, LOCAL_STATE_ROOT, localCdktfOutDir, localStateDir, stateDirFromEnv } from './keyroll-dirs';
import { emulatorPort } from './local-endpoint';

describe('stateDirFromEnv', () => {
  it('keeps one state folder per emulator port, the same for every loopback spelling', () => {
    for (const endpoint of ['http://127.0.0.1:4566', 'http://localhost:4566/', 'http://[::1]:4566']) {
      expect(stateDirFromEnv({ AWS_ENDPOINT_URL: endpoint })).toBe(path.join(LOCAL_STATE_ROOT, '4566'));
    }
    expect(stateDirFromEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4567' })).toBe(localStateDir(4567));
  });

  it('uses .keyroll/state for AWS (any non-loopback endpoint too), and KEYROLL_STATE_DIR over everything', () => {
    expect(stateDirFromEnv({})).toBe(AWS_STATE_DIR);
    expect(stateDirFromEnv({ AWS_ENDPOINT_URL: 'https://proxy.corp.example:8443' })).toBe(AWS_STATE_DIR);
    expect(stateDirFromEnv({ KEYROLL_STATE_DIR: 'some/dir', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(path.resolve('some/dir'));
  });

  it('reads the port of an endpoint without one from its scheme', () => {
    expect(emulatorPort('http://localhost')).toBe(80);
    expect(emulatorPort('https://localhost')).toBe(443);
  });
});

describe('clearLocalState', () => {
  // A port no emulator uses, so the test never touches a developer's state.
  const port = 1;
  afterEach(() => fs.rmSync(localStateDir(port), { recursive: true, force: true }));

  it("removes that port's state and cdktf output, and nothing else", () => {
    fs.mkdirSync(localStateDir(port), { recursive: true });
    fs.writeFileSync(path.join(localStateDir(port), 'keyroll-keys.tfstate'), '{}');
    fs.mkdirSync(path.join(localCdktfOutDir(port), 'stacks'), { recursive: true });
    fs.mkdirSync(localStateDir(2), { recursive: true });
    expect(clearLocalState(port)).toBe(path.join('.keyroll', 'state', 'local', '1'));
    expect(fs.existsSync(localStateDir(port))).toBe(false);
    expect(fs.existsSync(localCdktfOutDir(port))).toBe(false);
    expect(fs.existsSync(localStateDir(2))).toBe(true);
    fs.rmSync(localStateDir(2), { recursive: true });
    expect(clearLocalState(port)).toBeUndefined();
  });
});
