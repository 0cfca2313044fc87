/**
 * Issue 7, item 8: one tenant's writes must not stall another's verifications. Every change made
 * through this instance makes its verifier re-do store reads that were out for the changed key;
 * reads for other keys must not be re-done. Against the emulator, over HTTP, store reads counted.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { countingSecretReads } from '../support/secret-reads';
import { type Harness, startHarness } from '../support/service-harness';

const LOOPS = 8;
const COLD_KEYS = 10;

describe("one tenant's key changes and another tenant's verifications", () => {
  let harness: Harness;
  const reads = countingSecretReads();

  beforeAll(async () => {
    const logger = new Logger({ serviceName: 'keyroll-test', logLevel: 'SILENT' });
    harness = await startHarness({ service: { documentClient: reads.documentClient, logger } });
  });
  afterAll(() => harness.stop());

  it("verifies tenant B's cold keys in one store read each while eight PATCH loops change tenant A's keys", async () => {
    const manager = (await harness.issue('a', { permissions: ['keys:manage', 'telemetry:write'] })).key;
    const targets = await Promise.all(Array.from({ length: LOOPS }, () => harness.issue('a', { permissions: ['telemetry:write'] })));
    const coldKeys = await Promise.all(Array.from({ length: COLD_KEYS }, () => harness.issue('b', { permissions: ['telemetry:write'] })));

    let patching = true;
    let patches = 0;
    const failedPatches: number[] = [];
    const loops = targets.map(async (target, loop) => {
      for (let round = 0; patching; round++) {
        const response = await harness.call('PATCH', `/v1/tenants/a/api-keys/${target.id}`, {
          key: manager,
          body: { name: `loop-${loop}-round-${round}` },
        });
        if (response.status === 200) patches += 1;
        else failedPatches.push(response.status);
      }
    });
    // Verify only once every loop is changing keys, so each cold read overlaps their changes.
    while (patches < LOOPS * 2) await new Promise((resolve) => setTimeout(resolve, 10));

    const patchesBefore = patches;
    for (const { key } of coldKeys) {
      expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
    }
    const patchesDuring = patches - patchesBefore;
    patching = false;
    await Promise.all(loops);

    expect(failedPatches).toEqual([]);
    // The changes really overlapped the verifications (each PATCH forgets a key on this instance).
    expect(patchesDuring).toBeGreaterThanOrEqual(COLD_KEYS);
    // One read each: the old global invalidation re-read every cold key whenever any key changed.
    expect(coldKeys.map(({ key }) => reads.readsOf(key))).toEqual(coldKeys.map(() => 1));
  });
});
