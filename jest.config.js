/**
 * Three projects.
 * - `unit`: the tests beside the code in lambda/ and stacks/; no AWS, in parallel (`npm run test:unit`).
 * - `integration`: test/, against the local AWS emulator that its globalSetup starts (Jest runs a
 *   project's globalSetup only when one of its tests is selected), two files at a time.
 * - `timing`: the integration tests whose assertions are about elapsed time (rate-limit windows,
 *   cache bounds, secret-cache expiry, flush budgets). They run one at a time after the others, on
 *   a quiet machine, so a deploy test beside them cannot starve them into a false failure.
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  testMatch: ['**/*.test.ts'],
};

const emulator = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

/** Integration tests that measure time; `timing` runs them, `integration` leaves them out. */
const TIMING = [
  '<rootDir>/test/rate-limit/',
  '<rootDir>/test/serve/usage-and-cache.test.ts',
  '<rootDir>/test/serve/two-instances.test.ts',
  '<rootDir>/test/serve/unknown-key-flood.test.ts',
  '<rootDir>/test/serve/lambda-usage-flush.test.ts',
  '<rootDir>/test/serve/keep-alive.test.ts',
  '<rootDir>/test/serve/tenant-isolation-cache.test.ts',
  '<rootDir>/test/local-aws/iot-secret-cache.test.ts',
  '<rootDir>/test/local-aws/dynamodb-atomicity.test.ts',
];

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/lambda', '<rootDir>/stacks'],
      // No emulator here: any AWS call fails at once instead of reaching a real account.
      setupFiles: ['<rootDir>/test/support/unit-env.ts'],
    },
    {
      ...shared,
      ...emulator,
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testPathIgnorePatterns: ['/node_modules/', ...TIMING.map(escapePath)],
    },
    {
      ...shared,
      ...emulator,
      displayName: 'timing',
      roots: ['<rootDir>/test'],
      testMatch: TIMING.map((entry) => (entry.endsWith('/') ? `${entry}**/*.test.ts` : entry)),
    },
  ],
};

/** testPathIgnorePatterns are regular expressions over absolute paths. */
function escapePath(entry) {
  return entry.replace('<rootDir>', __dirname).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
