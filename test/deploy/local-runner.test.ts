/**
 * The deploy runner's local rules, run as `npm run …` runs it (`tsx stacks/deploy/main.ts`):
 * a changed local state folder never stops a deploy with Terraform's "Backend configuration
 * changed"; quiet output by default and Terraform's own with --verbose, neither with colour codes
 * off a terminal; a failure's cause once, without stack traces; and the emulator gone means
 * nothing to destroy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localCdktfOutDir, localStateDir } from '../../lambda/deploy-env/keyroll-dirs';
import { emulatorPort } from '../../lambda/deploy-env/local-endpoint';
import { closedPort, type Run, runProcess } from '../support/child-process';

jest.setTimeout(300_000);

const ROOT = path.join(__dirname, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-runner-'));
const endpoint = process.env.AWS_ENDPOINT_URL!;
const ANSI = /\u001b\[/;

function deployScript(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runProcess(process.execPath, [require.resolve('tsx/cli'), path.join(ROOT, 'stacks', 'deploy', 'main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
}

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
  // The output folder this test's emulator got under .keyroll (its port is this run's alone).
  fs.rmSync(localCdktfOutDir(emulatorPort(endpoint)), { recursive: true, force: true });
});

describe('local deploys', () => {
  it('plan with another state folder in the same output folder, without "Backend configuration changed"', async () => {
    const first = await deployScript(['diff', '--local', 'keyroll-platform'], { KEYROLL_STATE_DIR: path.join(work, 'state-a') });
    expect(first.status).toBe(0);
    // Quiet: the plan as one line per resource, no attribute values, no colour codes.
    expect(first.stdout).toMatch(/^keyroll-platform: would add \d+$/m);
    expect(first.stdout).toMatch(/^ {2}\+ aws_dynamodb_table\.tables_keys_\w+$/m);
    expect(first.stdout).not.toMatch(ANSI);
    expect(first.stdout.split('\n').length).toBeLessThan(40);

    const second = await deployScript(['diff', '--local', '--verbose', 'keyroll-platform'], { KEYROLL_STATE_DIR: path.join(work, 'state-b') });
    expect(second.stdout + second.stderr).not.toContain('Backend configuration changed');
    expect(second.status).toBe(0);
    // Verbose: Terraform's own plan, attributes and all, still without colour codes off a terminal.
    expect(second.stdout).toMatch(/# aws_dynamodb_table\.tables_keys_\w+ \(tables\/keys\) will be created/);
    expect(second.stdout).toMatch(/billing_mode\s+= "PAY_PER_REQUEST"/);
    expect(second.stdout).not.toMatch(ANSI);
  });

  it("shows a failed apply's Terraform error once, in full, without stack traces", async () => {
    // The keys stack alone, with no platform state to read: Terraform's "Unable to find remote state".
    const run = await deployScript(['deploy', '--local', 'keyroll-keys'], { KEYROLL_STATE_DIR: path.join(work, 'no-platform') });
    expect(run.status).toBe(1);
    const errors = run.stderr.match(/Error: Unable to find remote state/g) ?? [];
    expect(errors).toHaveLength(1);
    expect(run.stderr).toContain('No stored state was found for the given workspace in the given backend.');
    expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(run.stderr).toMatch(/keyroll: cdktf deploy failed \(exit 1\):/);
    expect(run.stdout + run.stderr).not.toMatch(ANSI);
  });

  it('check the keys file before cdktf starts, and deploy nothing when it has problems', async () => {
    const file = path.join(work, 'broken.yaml');
    fs.writeFileSync(file, 'tenant: acme\nkeys:\n  - name: fleet\n    environment: qa\n    permissions: [telemetry:write]\n');
    const run = await deployScript(['deploy', '--local'], { KEYROLL_KEYS_FILE: file });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/broken\.yaml:4:\d+ .*environment/);
    expect(run.stderr).toContain('nothing was deployed');
    expect(run.stdout).not.toContain('keyroll: deploy');
  });
});

describe('with no emulator answering', () => {
  it('destroy:local has nothing to destroy, exits 0 and clears that port\'s state; deploy:local says how to start one', async () => {
    const port = await closedPort();
    const stateDir = localStateDir(port);
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(path.join(stateDir, 'keyroll-keys.tfstate'), '{"resources":[]}');
    const env = { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` };

    const destroy = await deployScript(['destroy', '--local', 'keyroll-keys'], env);
    expect(destroy.status).toBe(0);
    expect(destroy.stdout).toContain(`keyroll: nothing to destroy: no local AWS answers at http://127.0.0.1:${port}, and an emulator keeps nothing once it stops. Cleared its Terraform state (.keyroll/state/local/${port}).`);
    expect(fs.existsSync(stateDir)).toBe(false);

    const deploy = await deployScript(['deploy', '--local'], env);
    expect(deploy.status).toBe(1);
    expect(deploy.stderr).toContain(`Start one there with \`npx keyroll local-aws --port ${port}\``);
  });
});
