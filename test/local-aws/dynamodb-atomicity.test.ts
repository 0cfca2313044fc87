/**
 * The emulator's DynamoDB must not let two racing conditional writes both pass, as moto alone does
 * (see lambda/local-aws/moto_dynamodb_atomic.py). The race runs from Python threads, which
 * contend more tightly than one Node process can.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

it('applies exactly one write per successful version-checked update, from 16 threads at once', () => {
  const output = execFileSync('python3', [join(__dirname, 'dynamodb-race.py'), process.env.AWS_ENDPOINT_URL!, `atomic-${Date.now()}`], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const { successes, version, applied } = JSON.parse(output);
  expect(successes).toBeGreaterThan(16);
  expect(version).toBe(successes);
  expect(applied).toBe(successes);
});
