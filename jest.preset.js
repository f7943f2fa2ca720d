// Shared jest settings: TypeScript through swc (no type-check; `build` does that),
// and @pretrain/* resolved to sources so tests never need a prior build.
const path = require('path');
const packagesDir = path.join(__dirname, 'packages');
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    // Subpath rules must come first: jest uses the first pattern that matches.
    '^@pretrain/core/testing$': `${packagesDir}/core/src/testing/index.ts`,
    '^@pretrain/([a-z0-9-]+)/lite$': `${packagesDir}/$1/src/lite.ts`,
    '^@pretrain/([a-z0-9-]+)$': `${packagesDir}/$1/src/index.ts`,
  },
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  setupFiles: [path.join(__dirname, 'tools', 'jest', 'backend-pack.js')],
  testTimeout: 120000,
};
