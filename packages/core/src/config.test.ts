import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { ConfigError, PretrainError } from './errors';
import { definePlugin, Registry, type PluginDefinition } from './registry';
import { exampleBuilderIssue, parseWithPath, resolveExperiment } from './config';

/** Local test doubles with the metadata the real built-ins declare (plugins may not be imported here). */
function builtins(): Registry {
  const never = (): never => {
    throw new Error('not created in config tests');
  };
  return new Registry()
    .register(definePlugin({ kind: 'model', name: 'bert', options: z.object({ hiddenSize: z.number().int().positive(), numLayers: z.number().int().default(2) }).strict(), meta: { attention: 'bidirectional' }, create: never }))
    .register(definePlugin({ kind: 'model', name: 'gpt2', options: z.object({ nEmbd: z.number().default(64) }).strict(), meta: { attention: 'causal' }, create: never }))
    .register(
      definePlugin({
        kind: 'objective',
        name: 'mlm',
        options: z.object({ maskProb: z.number().min(0).max(1).default(0.15), buildExamples: z.boolean().default(false) }).strict(),
        meta: { requiresAttention: 'bidirectional', buildsExamples: (o: { buildExamples: boolean }) => o.buildExamples },
        create: never,
      }),
    )
    .register(definePlugin({ kind: 'objective', name: 'nsp', options: z.object({ shortSeqProb: z.number().default(0.1) }).strict(), meta: { requiresAttention: 'bidirectional', buildsExamples: true }, create: never }))
    .register(definePlugin({ kind: 'objective', name: 'clm', options: z.object({}).strict(), meta: { requiresAttention: 'causal', buildsExamples: true }, create: never }))
    .register(definePlugin({ kind: 'head', name: 'classification', options: z.object({ numLabels: z.number().int().min(1) }).strict(), create: never }));
}

async function configErrors(raw: unknown, registry = builtins(), baseDir?: string): Promise<string[]> {
  try {
    await resolveExperiment(raw, registry, { baseDir });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('resolveExperiment', () => {
  it('resolves built-ins by short name and fills option defaults', async () => {
    const resolved = await resolveExperiment({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'mlm' }, { name: 'nsp', weight: 0.5 }] }, builtins());
    expect(resolved.model.definition.name).toBe('bert');
    expect(resolved.model.options).toEqual({ hiddenSize: 64, numLayers: 2 });
    expect(resolved.objectives.map((o) => [o.definition.name, o.weight, o.path])).toEqual([
      ['mlm', 1, 'objectives[0]'],
      ['nsp', 0.5, 'objectives[1]'],
    ]);
    expect(resolved.objectives[0].options).toEqual({ maskProb: 0.15, buildExamples: false });
    expect(resolved.config.seed).toBe(42);
  });

  it('names the config path of an option with the wrong type', async () => {
    const issues = await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'nsp' }, { name: 'mlm', options: { maskProb: 'high' } }] });
    expect(issues).toEqual(['objectives[1].options.maskProb: expected number, received string']);
  });

  it('reports a missing required option', async () => {
    expect(await configErrors({ model: { name: 'bert' }, head: { name: 'classification', options: { numLabels: 2 } } })).toEqual(['model.options.hiddenSize: required (expected number)']);
  });

  it('reports unknown options, out-of-range values and unknown top-level keys', async () => {
    expect(await configErrors({ model: { name: 'bert', options: { hiddenSize: 64, hidenLayers: 3 } }, objectives: [{ name: 'nsp' }] })).toEqual(['model.options: unknown option "hidenLayers"']);
    const [range] = await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'nsp' }, { name: 'mlm', options: { maskProb: 1.5 } }] });
    expect(range).toMatch(/^objectives\[1\]\.options\.maskProb: /);
    expect(await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, optimiser: {} })).toEqual(['(root): unknown option "optimiser"']);
    expect(await configErrors({ objectives: [] })).toEqual(['model: required (expected object)']);
    expect(await configErrors({ model: { name: 'bert' }, seed: 'x' })).toEqual(['seed: expected number, received string']);
  });

  it('reads an optional backend section: name and threads', async () => {
    const model = { name: 'bert', options: { hiddenSize: 64 } };
    expect((await resolveExperiment({ model, objectives: [{ name: 'nsp' }], backend: { name: 'cpu', threads: 4 } }, builtins())).config.backend).toEqual({ name: 'cpu', threads: 4 });
    expect((await resolveExperiment({ model, objectives: [{ name: 'nsp' }] }, builtins())).config.backend).toBeUndefined();
  });

  it('reports every problem of the backend section, each with its path', async () => {
    const issues = await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, backend: { name: 'gpu', threads: 0, thread: 2 }, seed: 'x' });
    expect(issues).toEqual([
      'seed: expected number, received string',
      'backend.name: Invalid option: expected one of "wasm"|"cpu"|"tensorflow"|"native"',
      'backend.threads: Too small: expected number to be >0',
      'backend: unknown option "thread"',
    ]);
  });

  it('rejects unknown plugin names, listing the known ones', async () => {
    const issues = await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'nsp' }, { name: 'mlmm' }] });
    expect(issues).toEqual(['objectives[1].name: unknown objective plugin "mlmm". Known: mlm, nsp, clm; third-party plugins are named by npm package']);
  });

  it('reports every problem at once', async () => {
    const issues = await configErrors({ model: { name: 'bert', options: { hiddenSize: 'big' } }, objectives: [{ name: 'nope' }, { name: 'mlm', options: { maskProb: 'x' } }] });
    expect(issues).toEqual([
      'model.options.hiddenSize: expected number, received string',
      expect.stringMatching(/^objectives\[0\]\.name: unknown objective plugin "nope"/),
      'objectives[1].options.maskProb: expected number, received string',
    ]);
  });

  it('rejects two example builders', async () => {
    expect(await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'nsp' }, { name: 'mlm', options: { buildExamples: true } }] })).toEqual([
      'objectives: exactly one objective may build examples, but objectives[0] (nsp) and objectives[1] (mlm) both do',
    ]);
  });

  it('rejects pre-training objectives with no example builder', async () => {
    const [issue] = await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'mlm' }] });
    expect(issue).toMatch(/^objectives: none of mlm builds examples/);
  });

  it('words the example-builder rule once, for the config, the trainer and corpus export', () => {
    expect(exampleBuilderIssue(['mlm', 'nsp'], ['nsp'])).toBeUndefined();
    expect(exampleBuilderIssue(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe('exactly one objective may build examples, but a and b and c all do');
    expect(exampleBuilderIssue(['mlm'], [])).toMatch(/^none of mlm builds examples/);
    expect(exampleBuilderIssue([], [])).toMatch(/^no objective given/);
  });

  it('rejects CLM on a bidirectional model (and MLM on a causal one)', async () => {
    expect(await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'clm' }] })).toEqual([
      'objectives[0].name: objective "clm" needs a causal model, but model "bert" is bidirectional',
    ]);
    const issues = await configErrors({ model: { name: 'gpt2' }, objectives: [{ name: 'mlm', options: { buildExamples: true } }] });
    expect(issues).toEqual(['objectives[0].name: objective "mlm" needs a bidirectional model, but model "gpt2" is causal']);
  });
});

describe('third-party plugins loaded by npm package name', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-plugins-'));
    const modules = path.join(dir, 'node_modules');
    // The plugin packages use zod like a real plugin would (through @pretrain/core's re-export).
    fs.mkdirSync(modules, { recursive: true });
    fs.symlinkSync(path.dirname(require.resolve('zod/package.json')), path.join(modules, 'zod'), 'dir');
    writePackage(modules, 'pretrain-objective-sop', `
      const { z } = require('zod');
      exports.pretrainPlugins = [{
        kind: 'objective', name: 'sop',
        options: z.object({ swapProb: z.number().default(0.5) }).strict(),
        meta: { requiresAttention: 'bidirectional', buildsExamples: true },
        create: (options) => ({ name: 'sop', options }),
      }];`);
    writePackage(modules, '@acme/pretrain-heads', `
      const { z } = require('zod');
      module.exports = { default: { kind: 'head', name: 'acme-span', options: z.object({ maxSpan: z.number().int() }), create: () => ({}) } };`);
    writePackage(modules, 'pretrain-broken', `throw new Error('boom at load');`);
    writePackage(modules, 'left-pad-like', `module.exports = function pad() {};`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writePackage(modules: string, name: string, source: string): void {
    const pkgDir = path.join(modules, name);
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
    fs.writeFileSync(path.join(pkgDir, 'index.js'), source);
  }

  it('loads an objective package and validates its options', async () => {
    const registry = builtins();
    const resolved = await resolveExperiment({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'mlm' }, { name: 'pretrain-objective-sop', options: { swapProb: 0.3 } }] }, registry, { baseDir: dir });
    expect(resolved.objectives[1].definition.name).toBe('sop');
    expect(resolved.objectives[1].options).toEqual({ swapProb: 0.3 });
    expect(registry.lookup('objective', 'pretrain-objective-sop')?.name).toBe('sop');
    const created = await resolved.objectives[1].definition.create(resolved.objectives[1].options, { baseDir: dir, seed: 1 });
    expect(created).toEqual({ name: 'sop', options: { swapProb: 0.3 } });
  });

  it('names the config path when a third-party plugin gets a bad option', async () => {
    const issues = await configErrors({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'pretrain-objective-sop', options: { swapProb: 'half' } }] }, builtins(), dir);
    expect(issues).toEqual(['objectives[0].options.swapProb: expected number, received string']);
  });

  it('loads a scoped package with a default export', async () => {
    const resolved = await resolveExperiment({ model: { name: 'bert', options: { hiddenSize: 64 } }, head: { name: '@acme/pretrain-heads', options: { maxSpan: 30 } } }, builtins(), { baseDir: dir });
    expect(resolved.head?.definition.name).toBe('acme-span');
  });

  it('explains missing, broken and non-plugin packages', async () => {
    const base = { model: { name: 'bert', options: { hiddenSize: 64 } } };
    const [missing] = await configErrors({ ...base, head: { name: '@acme/not-installed' } }, builtins(), dir);
    expect(missing).toMatch(/^head\.name: unknown plugin "@acme\/not-installed": not registered and no npm package of that name is installed/);
    const [broken] = await configErrors({ ...base, head: { name: 'pretrain-broken' } }, builtins(), dir);
    expect(broken).toMatch(/^head\.name: package "pretrain-broken" was found at .* but failed to load: boom at load/);
    const [notPlugin] = await configErrors({ ...base, head: { name: 'left-pad-like' } }, builtins(), dir);
    expect(notPlugin).toBe('head.name: package "left-pad-like" exports no pretrainPlugins');
    const [wrongKind] = await configErrors({ ...base, head: { name: 'pretrain-objective-sop' } }, builtins(), dir);
    expect(wrongKind).toBe('head.name: package "pretrain-objective-sop" has no head plugin (it provides: objective sop)');
  });
});

describe('Registry', () => {
  it('rejects duplicate registrations', () => {
    const registry = builtins();
    expect(() => registry.register({ kind: 'objective', name: 'mlm', options: z.object({}), create: () => ({}) as never } as PluginDefinition)).toThrow(PretrainError);
    expect(registry.list('model').map((p) => p.name)).toEqual(['bert', 'gpt2']);
  });
});

describe('parseWithPath', () => {
  it('prefixes issues with the given path and file', () => {
    const schema = z.object({ lr: z.number(), steps: z.number().int() });
    expect(() => parseWithPath(schema, { lr: '1e-3', steps: 10 }, 'trainer', 'exp.json')).toThrow('Invalid config exp.json:\n  trainer.lr: expected number, received string');
    expect(parseWithPath(schema, { lr: 0.1, steps: 3 }, 'trainer')).toEqual({ lr: 0.1, steps: 3 });
  });
});

describe('formatIssue', () => {
  it('says what was received even when the caller parsed without reportInput', () => {
    const { formatIssue } = require('./config') as typeof import('./config');
    const result = z.object({ a: z.number(), b: z.string() }).safeParse({ a: 'x' });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => formatIssue(i, ['head', 'options']))).toEqual(['head.options.a: expected number, received string', 'head.options.b: required (expected string)']);
  });
});
