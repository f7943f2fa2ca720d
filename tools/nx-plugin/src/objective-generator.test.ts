import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';

const objectiveGenerator = require('./generators/objective/generator') as (tree: Tree, options: Record<string, unknown>) => Promise<unknown>;
const WORKSPACE = path.join(__dirname, '../../..');

describe('objective generator (virtual tree)', () => {
  test('scaffolds a plugin package, a tsconfig path and a changeset', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('tsconfig.base.json', JSON.stringify({ compilerOptions: { paths: {} } }));
    await objectiveGenerator(tree, { name: 'token-order' });
    const root = 'packages/objective-token-order';
    for (const file of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.lib.json', 'jest.config.js', 'src/index.ts', 'src/objective.ts', 'src/objective.test.ts']) {
      expect(tree.exists(`${root}/${file}`)).toBe(true);
    }
    const pkg = readJson(tree, `${root}/package.json`);
    expect(pkg.name).toBe('@pretrain/objective-token-order');
    expect(pkg.nx.tags).toEqual(['type:plugin']);
    expect(Object.keys(pkg.dependencies)).toEqual(['@pretrain/core']);
    const source = tree.read(`${root}/src/objective.ts`, 'utf-8')!;
    expect(source).toContain('export class TokenOrderObjective');
    expect(source).toContain("name: 'token-order'");
    expect(source).not.toMatch(/<%|%>/);
    expect(readJson(tree, 'tsconfig.base.json').compilerOptions.paths['@pretrain/objective-token-order']).toEqual([`${root}/src/index.ts`]);
    expect(tree.read('.changeset/objective-token-order.md', 'utf-8')).toMatch(/^---\n"@pretrain\/objective-token-order": minor\n---/);
    expect(tree.read(`${root}/jest.config.js`, 'utf-8')).toContain("require('../../jest.preset.js')");
  });

  test("keeps a description's quotes and apostrophes as written (no HTML escaping)", async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('tsconfig.base.json', JSON.stringify({ compilerOptions: { paths: {} } }));
    const description = `Predict a window's "context" words & more`;
    await objectiveGenerator(tree, { name: 'quoted', description });
    const root = 'packages/objective-quoted';
    expect(readJson(tree, `${root}/package.json`).description).toBe(description);
    expect(tree.read(`${root}/README.md`, 'utf-8')).toContain(description);
    expect(tree.read(`${root}/src/objective.ts`, 'utf-8')).toContain(`description: ${JSON.stringify(description)}`);
  });

  test('rejects names that are not kebab-case and packages that exist', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await expect(objectiveGenerator(tree, { name: 'Bad Name' })).rejects.toThrow(/must be kebab-case/);
    await objectiveGenerator(tree, { name: 'twice' });
    await expect(objectiveGenerator(tree, { name: 'twice' })).rejects.toThrow(/already exists/);
  });
});

/** A temporary copy of what the generator, core and the new package need; node_modules linked. */
function temporaryWorkspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-generator-'));
  for (const file of ['package.json', 'nx.json', 'tsconfig.base.json', 'jest.preset.js', 'eslint.config.js']) fs.copyFileSync(path.join(WORKSPACE, file), path.join(dir, file));
  const skip = new Set(['dist', 'node_modules', '.nx']);
  for (const folder of ['packages/core', 'tools/nx-plugin', 'tools/jest']) {
    fs.cpSync(path.join(WORKSPACE, folder), path.join(dir, folder), { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
  }
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, '@pretrain'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(WORKSPACE, 'node_modules'))) {
    if (entry !== '@pretrain') fs.symlinkSync(path.join(WORKSPACE, 'node_modules', entry), path.join(modules, entry));
  }
  fs.symlinkSync(path.join(dir, 'packages/core'), path.join(modules, '@pretrain/core'));
  return dir;
}

describe('objective generator (real workspace copy)', () => {
  test('`nx g @pretrain/nx-plugin:objective demo` creates a package that builds, loads and trains for 3 steps', () => {
    const dir = temporaryWorkspace();
    const run = (args: string[]) =>
      execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', stdio: 'pipe', timeout: 240_000, env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true' } });
    try {
      run(['node_modules/nx/dist/bin/nx.js', 'g', '@pretrain/nx-plugin:objective', 'demo', '--no-interactive']);
      expect(fs.existsSync(path.join(dir, 'packages/objective-demo/src/objective.ts'))).toBe(true);
      // Build core (the new package compiles against its declarations) and then the new package.
      run(['node_modules/typescript/bin/tsc', '-p', 'packages/core/tsconfig.lib.json']);
      fs.cpSync(path.join(dir, 'packages/core/src/generated'), path.join(dir, 'packages/core/dist/generated'), { recursive: true });
      fs.symlinkSync(path.join(dir, 'packages/objective-demo'), path.join(dir, 'node_modules/@pretrain/objective-demo'));
      run(['node_modules/typescript/bin/tsc', '-p', 'packages/objective-demo/tsconfig.lib.json']);
      expect(fs.existsSync(path.join(dir, 'packages/objective-demo/dist/index.d.ts'))).toBe(true);
      const loaded = run(['-e', "const p = require('@pretrain/objective-demo').pretrainPlugins[0]; console.log(p.kind + ':' + p.name)"]);
      expect(loaded.trim()).toBe('objective:demo');
      // Lint, including the nx module-boundary rule (a plugin may import only core and TF.js).
      run(['node_modules/eslint/bin/eslint.js', 'packages/objective-demo/src']);
      // The generated test trains the objective for 3 steps on a tiny backbone.
      const jest = spawnSync(process.execPath, ['node_modules/jest/bin/jest.js', '-c', 'packages/objective-demo/jest.config.js', '--ci', '--colors=false'], { cwd: dir, encoding: 'utf8', timeout: 240_000, env: { ...process.env, FORCE_COLOR: '0' } });
      expect(`${jest.stderr}`).toMatch(/Tests:\s+2 passed, 2 total/);
      expect(jest.status).toBe(0);
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
