import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// jest resolves @pretrain/* to the workspace sources, so loadTokenizer runs here in a plain Node
// child process (real package resolution): tokenizer-factory.ts compiled on its own by swc.
const swc = require('@swc/core') as typeof import('@swc/core');

function compiledFactoryModule(dir: string): string {
  const source = fs.readFileSync(path.join(__dirname, 'tokenizer-factory.ts'), 'utf8');
  const { code } = swc.transformSync(source, { filename: 'tokenizer-factory.ts', jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
  const file = path.join(dir, 'tokenizer-factory.js');
  fs.writeFileSync(file, code);
  return file;
}

/** A project whose node_modules holds a fake @pretrain/tokenizer; `lite` adds the `./lite` export. */
function projectWithTokenizer(lite: boolean): string {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'corpus-factory-'));
  const dir = path.join(project, 'node_modules', '@pretrain', 'tokenizer');
  fs.mkdirSync(dir, { recursive: true });
  const exports: Record<string, string> = { '.': './index.js' };
  if (lite) exports['./lite'] = './lite.js';
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@pretrain/tokenizer', version: '0.0.1', main: 'index.js', exports }));
  for (const entry of ['index', 'lite']) fs.writeFileSync(path.join(dir, `${entry}.js`), `exports.fromTokenizerJSON = (json) => ({ entry: '${entry}', json });`);
  return project;
}

/** loadTokenizer(factory, '{"a":1}') run in `project`: what it returned, or the error message. */
function loadIn(project: string, factory: string): string {
  const module = compiledFactoryModule(project);
  const script = `const f = require(${JSON.stringify(module)}); try { console.log(JSON.stringify(f.loadTokenizer(${factory}, '{"a":1}'))); } catch (e) { console.log('error: ' + e.message); }`;
  try {
    return execFileSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' }).trim();
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}

describe('loadTokenizer (in a project of its own)', () => {
  it("loads the default factory from the project's tokenizer package, from its /lite entry when it has one", () => {
    expect(loadIn(projectWithTokenizer(true), 'f.defaultTokenizerFactory')).toBe('{"entry":"lite","json":"{\\"a\\":1}"}');
  });

  it('falls back to the package root for a tokenizer package without the /lite entry', () => {
    expect(loadIn(projectWithTokenizer(false), 'f.defaultTokenizerFactory')).toBe('{"entry":"index","json":"{\\"a\\":1}"}');
  });

  it('has no fallback for another module, and says which module it could not load', () => {
    expect(loadIn(projectWithTokenizer(false), "{ module: '@pretrain/tokenizer/extra', exportName: 'fromTokenizerJSON' }")).toMatch(/^error: tokenizer factory: cannot load module "@pretrain\/tokenizer\/extra" \(.*not defined by "exports"/);
  });
});
