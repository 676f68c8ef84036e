/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The examples import the library by its package name, as a user's app does.
  moduleNameMapper: { '^cdk8s-pki$': '<rootDir>/constructs/index.ts' },
  setupFiles: ['<rootDir>/test/support/fast-check-seed.ts'],
  // The etcd and openssl suites spawn real programs; two workers match the CI machine.
  maxWorkers: 2,
  testTimeout: 60000,
};
