import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { forgetBackends } from './run-cdktf';

describe('forgetBackends', () => {
  it("removes only each stack's record of its backend, keeping providers and the synth", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-out-'));
    const stack = path.join(out, 'stacks', 'keyroll-keys');
    fs.mkdirSync(path.join(stack, '.terraform', 'providers'), { recursive: true });
    fs.writeFileSync(path.join(stack, '.terraform', 'terraform.tfstate'), '{"backend":{"type":"local"}}');
    fs.writeFileSync(path.join(stack, 'cdk.tf.json'), '{}');
    forgetBackends(out);
    expect(fs.existsSync(path.join(stack, '.terraform', 'terraform.tfstate'))).toBe(false);
    expect(fs.existsSync(path.join(stack, '.terraform', 'providers'))).toBe(true);
    expect(fs.existsSync(path.join(stack, 'cdk.tf.json'))).toBe(true);
    forgetBackends(path.join(out, 'missing'));
    fs.rmSync(out, { recursive: true, force: true });
  });
});
