import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { BackbonePlugin, defaultRegistry, initBackend, readCheckpointTensors, stripPrefix } from '@pretrain/core';
import { registerBuiltins } from '../builtins';
import { createPlugin, defaultDataDir, pretrainPreset, sentencesOf } from '../commands/demo';
import { PRESETS } from '../commands/demo-presets';
import { StopSignal } from '../interrupt';
import { encodeTaggedWords } from './tagging';
import { trainTokenizer } from './tokenizers';

let work: string;
beforeAll(async () => {
  await initBackend({ log: false });
  registerBuiltins(defaultRegistry);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'start-state-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function hiddenStates(backbone: BackbonePlugin, inputIds: Int32Array[]): Float32Array[] {
  const seq = Math.max(...inputIds.map((ids) => ids.length));
  const ids = new Int32Array(inputIds.length * seq);
  const mask = new Int32Array(inputIds.length * seq);
  inputIds.forEach((row, b) => {
    ids.set(row, b * seq);
    mask.fill(1, b * seq, b * seq + row.length);
  });
  return tf.tidy(() => {
    const inputs = { inputIds: tf.tensor2d(ids, [inputIds.length, seq], 'int32'), attentionMask: tf.tensor2d(mask, [inputIds.length, seq], 'int32'), tokenTypeIds: tf.zeros([inputIds.length, seq], 'int32') as tf.Tensor2D };
    const out = backbone.forward(inputs, { training: false, outputHiddenStates: true });
    return [...out.hiddenStates!, ...(out.pooledOutput ? [out.pooledOutput] : [])].map((h) => h.dataSync() as Float32Array);
  });
}

describe('the fine-tuning start state', () => {
  it('a backbone loaded for fine-tuning (from memory as the demo does, or from the saved checkpoint) computes exactly what the pre-trained one computed', async () => {
    const preset = { ...PRESETS.smoke, pretrain: { ...PRESETS.smoke.pretrain, maxSteps: 6 } };
    const dataDir = defaultDataDir();
    const corpus = await createPlugin('corpus', 'text', { ...preset.corpus.options, paths: [path.join(dataDir, 'gutenberg/pg11.txt')] }, dataDir, preset.seed);
    const tokenizer = await trainTokenizer(sentencesOf(corpus, preset.seed), { type: 'wordpiece', vocabSize: 300 });
    const modelOptions = { ...preset.model.options, vocabSize: tokenizer.getVocabSize() };
    const env = { stop: new StopSignal(), log: () => undefined };
    const { backbone, pre } = await pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, work, env, { trainer: { progress: 'none' } });
    expect(pre.result.step).toBe(6);

    const inputs = [['Alice', 'was', 'beginning', 'to', 'get', 'very', 'tired'], ['Down', 'the', 'rabbit', 'hole']].map((w) => encodeTaggedWords(tokenizer, w, undefined, 32).example.inputIds);
    const expected = hiddenStates(backbone, inputs);

    const fromMemory = await createPlugin('model', preset.model.name, modelOptions, dataDir, preset.seed + 1);
    const state = backbone.stateDict();
    const report = fromMemory.loadStateDict(state);
    expect(report).toMatchObject({ missing: [], unexpected: [] });
    const saved = readCheckpointTensors(pre.finalDir);
    const fromDisk = await createPlugin('model', preset.model.name, modelOptions, dataDir, preset.seed + 7);
    const backboneTensors = new Map([...saved].filter(([name]) => name.startsWith('bert.')).map(([name, t]) => [stripPrefix(name, 'bert'), t]));
    expect(fromDisk.loadStateDict(backboneTensors)).toMatchObject({ missing: [], unexpected: [] });
    // Every tensor the pre-trained backbone has, and nothing re-initialised: the same names, the same bytes.
    const loaded = fromDisk.stateDict();
    expect([...loaded.keys()].sort()).toEqual([...state.keys()].sort());
    for (const [name, tensor] of state) expect(Buffer.from((loaded.get(name)!.dataSync() as Float32Array).buffer).equals(Buffer.from((tensor.dataSync() as Float32Array).buffer))).toBe(true);

    for (const model of [fromMemory, fromDisk]) {
      const actual = hiddenStates(model, inputs);
      expect(actual).toHaveLength(expected.length);
      actual.forEach((h, i) => expect(Array.from(h)).toEqual(Array.from(expected[i])));
    }
    // A model from random init (the scratch arm) does not: the comparison can fail.
    const scratch = await createPlugin('model', preset.model.name, modelOptions, dataDir, preset.seed + 1);
    expect(Array.from(hiddenStates(scratch, inputs)[2])).not.toEqual(Array.from(expected[2]));

    // Continued pre-training starts from the given tensors: one step at a learning rate of 1e-9 leaves the model it was given.
    const continued = await pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, path.join(work, 'continued'), env, {
      trainer: { progress: 'none', maxSteps: 1, learningRate: 1e-9, warmupSteps: 0 },
      initialBackbone: state,
    });
    expect(continued.pre.result.step).toBe(1);
    const largestDifference = (a: Float32Array[]) => Math.max(...a.map((h, i) => Math.max(...h.map((v, j) => Math.abs(v - expected[i][j])))));
    expect(largestDifference(hiddenStates(continued.backbone, inputs))).toBeLessThan(1e-4);
    expect(largestDifference(hiddenStates(scratch, inputs))).toBeGreaterThan(1e-2);
    const misfit = new Map([...state, ['not.a.tensor', tf.zeros([1])]]);
    await expect(pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, path.join(work, 'misfit'), env, { initialBackbone: misfit })).rejects.toThrow(/unexpected not\.a\.tensor/);

    for (const t of [...state.values(), ...loaded.values(), ...saved.values(), misfit.get('not.a.tensor')!]) t.dispose();
    for (const model of [backbone, fromMemory, fromDisk, scratch, continued.backbone]) model.dispose();
  });
});
