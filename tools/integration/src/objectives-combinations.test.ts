// Objective combinations are checked at config time from the plugins' metadata (core's
// combinationIssues); these tests use the real objective plugins and two fake model definitions.
import { ConfigError, definePlugin, Registry, resolveExperiment, z } from '@pretrain/core';
import { pretrainPlugins as mlm } from '@pretrain/objective-mlm';
import { pretrainPlugins as nsp } from '@pretrain/objective-nsp';
import { pretrainPlugins as clm } from '@pretrain/objective-clm';
import { pretrainPlugins as sop } from '@pretrain/objective-sop';

const fakeModel = (name: string, attention: 'bidirectional' | 'causal') =>
  definePlugin({
    kind: 'model',
    name,
    options: z.object({}).strict(),
    meta: { attention },
    create: () => {
      throw new Error('not built in config tests');
    },
  });

function registry(): Registry {
  const r = new Registry();
  for (const d of [...mlm, ...nsp, ...clm, ...sop, fakeModel('bert', 'bidirectional'), fakeModel('gpt2', 'causal')]) r.register(d);
  return r;
}

async function issues(config: unknown): Promise<string[]> {
  try {
    await resolveExperiment(config, registry());
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

describe('objective combinations', () => {
  test('BERT = MLM + NSP is valid, with per-objective weights and defaults filled', async () => {
    const resolved = await resolveExperiment({ model: { name: 'bert' }, objectives: [{ name: 'mlm' }, { name: 'nsp', weight: 0.5 }] }, registry());
    expect(resolved.objectives.map((o) => [o.definition.name, o.weight])).toEqual([['mlm', 1], ['nsp', 0.5]]);
    expect((resolved.objectives[0].options as { maskProbability: number }).maskProbability).toBe(0.15);
  });

  test('RoBERTa = MLM alone is valid with its example builder on, rejected without one', async () => {
    expect(await issues({ model: { name: 'bert' }, objectives: [{ name: 'mlm', options: { buildExamples: true } }] })).toEqual([]);
    const missing = await issues({ model: { name: 'bert' }, objectives: [{ name: 'mlm' }] });
    expect(missing.join('\n')).toMatch(/none of mlm builds examples/);
  });

  test('GPT = CLM is valid; CLM with a bidirectional model is rejected naming the path', async () => {
    expect(await issues({ model: { name: 'gpt2' }, objectives: [{ name: 'clm' }] })).toEqual([]);
    const found = await issues({ model: { name: 'bert' }, objectives: [{ name: 'clm' }] });
    expect(found).toEqual([expect.stringMatching(/^objectives\[0\]\.name: objective "clm" needs a causal model, but model "bert" is bidirectional/)]);
  });

  test('MLM on a causal model is rejected', async () => {
    const found = await issues({ model: { name: 'gpt2' }, objectives: [{ name: 'mlm', options: { buildExamples: true } }] });
    expect(found.join('\n')).toMatch(/"mlm" needs a bidirectional model/);
  });

  test('two example builders (NSP + SOP, or MLM builder + NSP) are rejected', async () => {
    const two = await issues({ model: { name: 'bert' }, objectives: [{ name: 'mlm' }, { name: 'nsp' }, { name: 'sop' }] });
    expect(two.join('\n')).toMatch(/exactly one objective may build examples, but objectives\[1\] \(nsp\) and objectives\[2\] \(sop\) both do/);
    const alsoTwo = await issues({ model: { name: 'bert' }, objectives: [{ name: 'mlm', options: { buildExamples: true } }, { name: 'nsp' }] });
    expect(alsoTwo.join('\n')).toMatch(/objectives\[0\] \(mlm\) and objectives\[1\] \(nsp\)/);
  });

  test('ALBERT-style MLM + SOP is valid; bad objective options name their path', async () => {
    expect(await issues({ model: { name: 'bert' }, objectives: [{ name: 'mlm', options: { wholeWordMasking: true } }, { name: 'sop' }] })).toEqual([]);
    const bad = await issues({ model: { name: 'bert' }, objectives: [{ name: 'mlm', options: { maskProbability: 'lots' } }, { name: 'nsp' }] });
    expect(bad).toEqual([expect.stringMatching(/^objectives\[0\]\.options\.maskProbability: .*number/)]);
  });

  test('objectives load by npm package name too', async () => {
    const resolved = await resolveExperiment({ model: { name: 'bert' }, objectives: [{ name: '@pretrain/objective-mlm' }, { name: '@pretrain/objective-nsp' }] }, registry());
    expect(resolved.objectives.map((o) => o.definition.name)).toEqual(['mlm', 'nsp']);
  });
});
