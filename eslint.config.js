// Flat ESLint config. The nx module-boundary rule is what keeps plugins independent:
// plugin packages (type:plugin) may import only @pretrain/core (type:core) and TF.js; only the
// CLI (type:app) may import everything. tools/ lint-boundaries test proves the rule fires.
const nx = require('@nx/eslint-plugin');
const tseslint = require('typescript-eslint');

module.exports = [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '**/coverage/**', '**/files/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // tools/scripts is no project: its shared script runner and benchmark helpers are imported by path.
          allow: ['^(\\.\\./)+(tools/)?scripts/(run-ts|bench-utils)$'],
          depConstraints: [
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:plugin', onlyDependOnLibsWithTags: ['type:core'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:core', 'type:plugin'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:core', 'type:plugin', 'type:app'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-var-requires': 'off' },
  },
];
