/**
 * The module-boundary rule keeps plugins independent: a plugin importing another plugin must fail
 * lint. Writes a throwaway file into packages/objective-clm/src, lints it with the repo's ESLint
 * config (in a child process: ESLint loads its flat config with a dynamic import), and removes it.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';

const root = path.join(__dirname, '../../..');
const bin = (name: string) => path.join(root, 'node_modules', name);
const nxBin = require.resolve('nx/bin/nx', { paths: [root] });

interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
}

function lint(file: string): LintMessage[] {
  const result = spawnSync(process.execPath, [bin('eslint/bin/eslint.js'), '--format', 'json', '--no-warn-ignored', file], { cwd: root, encoding: 'utf8', timeout: 90_000 });
  if (!result.stdout) throw new Error(`eslint produced no output (status ${result.status}): ${result.stderr}`);
  const [report] = JSON.parse(result.stdout) as { messages: LintMessage[] }[];
  return report.messages;
}

function withTempSource<T>(dir: string, source: string, fn: (file: string) => T): T {
  const file = path.join(dir, `__boundary-check-${process.pid}-${randomBytes(4).toString('hex')}.ts`);
  fs.writeFileSync(file, source);
  try {
    return fn(file);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

beforeAll(() => {
  // The nx lint rule reads the project graph; computing it first keeps the rule from guessing.
  execFileSync(process.execPath, [nxBin, 'show', 'projects'], { cwd: root, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' }, timeout: 90_000 });
});

it('nx sees all eleven packages', () => {
  const projects = JSON.parse(execFileSync(process.execPath, [nxBin, 'show', 'projects', '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } })) as string[];
  const packages = ['core', 'tokenizer', 'corpus', 'model-bert', 'model-gpt', 'objective-mlm', 'objective-nsp', 'objective-clm', 'heads', 'trainer', 'cli'];
  expect(projects).toEqual(expect.arrayContaining(packages.map((p) => `@pretrain/${p}`)));
});

it('fails lint when a plugin imports another plugin, and passes when it imports core', () => {
  const pluginSrc = path.join(root, 'packages/objective-clm/src');
  const crossPlugin = withTempSource(pluginSrc, `import { pretrainPlugins } from '@pretrain/objective-mlm';\nexport const leaked = pretrainPlugins;\n`, lint);
  const boundaryErrors = crossPlugin.filter((m) => m.ruleId === '@nx/enforce-module-boundaries' && m.severity === 2);
  expect(boundaryErrors).toHaveLength(1);
  expect(boundaryErrors[0].message).toMatch(/tagged with "type:plugin" can only depend on libs tagged with "type:core"/);

  const coreOnly = withTempSource(pluginSrc, `import { Rng } from '@pretrain/core';\nexport const rng = new Rng(1);\n`, lint);
  expect(coreOnly.filter((m) => m.ruleId === '@nx/enforce-module-boundaries')).toEqual([]);
  expect(fs.readdirSync(pluginSrc).filter((f) => f.startsWith('__boundary-check-'))).toEqual([]);
});
