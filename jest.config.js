// Two projects: `unit` (pure logic, no I/O beyond reading committed files) and
// `integration` (a real etcd + kube-apiserver started once per run by globalSetup).
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  // Sources import siblings as './x.js' (NodeNext); map them back to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/e2e/bench/**/*.test.ts', '<rootDir>/e2e/**/*.unit.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/e2e/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/e2e/bench/', '\\.unit\\.test\\.ts$'],
      // Jest loads global setup with Node's own ESM loader, which cannot resolve
      // TypeScript sources, so it runs the compiled harness (`make build` first).
      globalSetup: '<rootDir>/dist/e2e/harness/jest-global-setup.js',
      globalTeardown: '<rootDir>/dist/e2e/harness/jest-global-teardown.js',
    },
  ],
  testTimeout: 60000,
};
