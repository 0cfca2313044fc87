/**
 * Two projects. `unit`: the tests beside the code in lambda/ and stacks/, which need no AWS and run
 * in parallel (`npm run test:unit`). `integration`: test/, against the local AWS emulator that its
 * globalSetup starts (Jest runs a project's globalSetup only when one of its tests is selected).
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['**/*.test.ts'],
};

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
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
