/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/fast-check-seed.ts'],
  // The etcd and openssl suites spawn real programs; two workers match the CI machine.
  maxWorkers: 2,
  testTimeout: 60000,
};
