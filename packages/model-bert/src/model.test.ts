/** Behaviour beyond parity: dropout, initialisation, the plugin, parameter names and layout. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Registry, initBackend, parseWithPath, resolveExperiment } from '@pretrain/core';
import { BertModel, bertOptionsSchema, pretrainPlugins } from './index';
import { HF_FIXTURES_DIR } from '@pretrain/core/testing';

const tiny = { vocab_size: 50, hidden_size: 16, num_attention_heads: 2, num_hidden_layers: 2, intermediate_size: 32, max_position_embeddings: 32 };

beforeAll(async () => {
  await initBackend({ log: false });
});

function run(model: BertModel, training: boolean, dropoutSeed?: number): number[] {
  return tf.tidy(() => {
    const inputIds = tf.tensor2d([[1, 5, 7, 9, 2, 0]], [1, 6], 'int32');
    return Array.from(model.forward({ inputIds, attentionMask: tf.tensor2d([[1, 1, 1, 1, 1, 0]], [1, 6], 'int32') }, { training, dropoutSeed }).sequenceOutput.dataSync());
  });
}

describe('dropout', () => {
  it('is off in eval mode, seeded in training, and skipped entirely at rate 0', () => {
    const model = new BertModel({ ...tiny, hidden_dropout_prob: 0.3, attention_probs_dropout_prob: 0.3 }, { seed: 1 });
    const evalOut = run(model, false);
    expect(run(model, false)).toEqual(evalOut);
    expect(run(model, true, 42)).toEqual(run(model, true, 42));
    expect(run(model, true, 42)).not.toEqual(run(model, true, 43));
    expect(run(model, true, 42)).not.toEqual(evalOut);
    // Without a seed each call draws a fresh mask.
    expect(run(model, true)).not.toEqual(run(model, true));
    model.dispose();
    const noDropout = new BertModel({ ...tiny, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }, { seed: 1 });
    expect(run(noDropout, true, 5)).toEqual(run(noDropout, false));
    noDropout.dispose();
  });

  it('keeps 1 - p of the activations, scaled by 1 / (1 - p)', () => {
    const { dropout, Rng } = jest.requireActual('@pretrain/core') as typeof import('@pretrain/core');
    const values = tf.tidy(() => dropout(tf.ones([100000]), 0.25, new Rng(3)).dataSync());
    const kept = values.filter((v) => v !== 0);
    expect(kept.length / values.length).toBeCloseTo(0.75, 2);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
  });
});

describe('BertModel', () => {
  it('initialises like HF: N(0, initializer_range) weights, zero biases, unit LayerNorm, zero pad row', () => {
    const model = new BertModel({ ...tiny, initializer_range: 0.05, vocab_size: 2000, hidden_size: 32, num_attention_heads: 4 }, { seed: 9 });
    const vars = model.variables();
    const words = vars.get('embeddings.word_embeddings.weight')!.dataSync() as Float32Array;
    const mean = words.reduce((a, b) => a + b, 0) / words.length;
    const std = Math.sqrt(words.reduce((a, b) => a + (b - mean) ** 2, 0) / words.length);
    expect(std).toBeCloseTo(0.05, 2);
    expect(Array.from(words.slice(0, 32)).every((v) => v === 0)).toBe(true);
    expect(Array.from(vars.get('encoder.layer.0.attention.self.query.bias')!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(vars.get('embeddings.LayerNorm.weight')!.dataSync()).every((v) => v === 1)).toBe(true);
    // Same seed, same weights.
    const again = new BertModel({ ...tiny, initializer_range: 0.05, vocab_size: 2000, hidden_size: 32, num_attention_heads: 4 }, { seed: 9 });
    expect(again.variables().get('pooler.dense.weight')!.dataSync()).toEqual(vars.get('pooler.dense.weight')!.dataSync());
    model.dispose();
    again.dispose();
  });

  it('keeps dense weights as [in, out] internally and [out, in] in stateDict', () => {
    const model = new BertModel({ ...tiny, intermediate_size: 24 }, { seed: 2 });
    expect(model.variables().get('encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([16, 24]);
    const state = model.stateDict();
    expect(state.get('encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([24, 16]);
    expect(state.get('embeddings.word_embeddings.weight')!.shape).toEqual([50, 16]);
    expect(state.size).toBe(model.variables().size);
    state.forEach((t) => t.dispose());
    model.dispose();
  });

  it('maps parameter names to layer depth and exposes the tied input embeddings', () => {
    const model = new BertModel(tiny);
    expect(model.layerIndexOf('embeddings.LayerNorm.weight')).toBe(0);
    expect(model.layerIndexOf('bert.encoder.layer.1.output.dense.bias')).toBe(2);
    expect(model.layerIndexOf('pooler.dense.weight')).toBe(3);
    expect(model.layerIndexOf('cls.predictions.bias')).toBe(3);
    expect(model.inputEmbeddings()).toBe(model.variables().get('embeddings.word_embeddings.weight'));
    expect(model.info).toMatchObject({ modelType: 'bert', basePrefix: 'bert', attention: 'bidirectional', vocabSize: 50, hiddenSize: 16, numLayers: 2, hiddenAct: 'gelu' });
    model.dispose();
  });

  it('treats missing token types as zeros and a missing mask as all ones (as HF)', () => {
    const model = new BertModel(tiny, { seed: 3 });
    tf.tidy(() => {
      const inputIds = tf.tensor2d([[3, 9, 4, 1], [7, 7, 2, 5]], [2, 4], 'int32');
      const bare = model.forward({ inputIds }, { training: false });
      const explicit = model.forward({ inputIds, tokenTypeIds: tf.zerosLike(inputIds), attentionMask: tf.onesLike(inputIds) }, { training: false });
      expect(tf.max(tf.abs(tf.sub(bare.sequenceOutput, explicit.sequenceOutput))).dataSync()[0]).toBeLessThan(1e-6);
      expect(tf.max(tf.abs(tf.sub(bare.pooledOutput!, explicit.pooledOutput!))).dataSync()[0]).toBeLessThan(1e-6);
      // Padding: a masked position does not change the others.
      const masked = model.forward({ inputIds, attentionMask: tf.tensor2d([[1, 1, 1, 0], [1, 1, 1, 0]], [2, 4], 'int32') }, { training: false });
      const changed = model.forward({ inputIds: tf.tensor2d([[3, 9, 4, 11], [7, 7, 2, 12]], [2, 4], 'int32'), attentionMask: tf.tensor2d([[1, 1, 1, 0], [1, 1, 1, 0]], [2, 4], 'int32') }, { training: false });
      const firstThree = (t: tf.Tensor3D) => tf.slice(t, [0, 0, 0], [2, 3, 16]);
      expect(tf.max(tf.abs(tf.sub(firstThree(masked.sequenceOutput), firstThree(changed.sequenceOutput)))).dataSync()[0]).toBeLessThan(1e-6);
    });
    model.dispose();
  });

  it('leaves no tensors behind after forward inside tf.tidy (training and eval)', () => {
    const model = new BertModel({ ...tiny, hidden_dropout_prob: 0.1 });
    const before = tf.memory().numTensors;
    run(model, true, 1);
    run(model, false);
    expect(tf.memory().numTensors).toBe(before);
    const parameters = model.variables().size;
    model.dispose();
    expect(tf.memory().numTensors).toBe(before - parameters);
  });
});

describe('the bert plugin', () => {
  const plugin = pretrainPlugins[0];

  it('is a bidirectional model plugin named bert', () => {
    expect(plugin).toMatchObject({ kind: 'model', name: 'bert', meta: { attention: 'bidirectional' } });
  });

  it('builds a model from camelCase HF options', async () => {
    const options = parseWithPath(bertOptionsSchema, { vocabSize: 50, hiddenSize: 16, numAttentionHeads: 2, numHiddenLayers: 1, intermediateSize: 32, hiddenAct: 'gelu_new' }, 'model.options');
    const model = (await plugin.create(options, { baseDir: '.', seed: 3 })) as BertModel;
    expect(model.config).toMatchObject({ vocab_size: 50, hidden_size: 16, num_hidden_layers: 1, hidden_act: 'gelu_new', layer_norm_eps: 1e-12 });
    model.dispose();
  });

  it('builds the same model from HF snake_case options as from camelCase ones', async () => {
    const camel = parseWithPath(bertOptionsSchema, { vocabSize: 50, hiddenSize: 16, numAttentionHeads: 2, numHiddenLayers: 1, intermediateSize: 32, hiddenAct: 'gelu_new' }, 'model.options');
    const snake = parseWithPath(bertOptionsSchema, { vocab_size: 50, hidden_size: 16, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 32, hidden_act: 'gelu_new' }, 'model.options');
    expect(snake).toEqual(camel);
    const fromCamel = (await plugin.create(camel, { baseDir: '.', seed: 3 })) as BertModel;
    const fromSnake = (await plugin.create(snake, { baseDir: '.', seed: 3 })) as BertModel;
    expect(fromSnake.config).toEqual(fromCamel.config);
    expect(run(fromSnake, false)).toEqual(run(fromCamel, false));
    fromCamel.dispose();
    fromSnake.dispose();
  });

  it('loads `pretrained` relative to the config directory, with dropout overrides', async () => {
    const options = parseWithPath(bertOptionsSchema, { pretrained: 'bert-seqcls/model', hiddenDropoutProb: 0 }, 'model.options');
    const model = (await plugin.create(options, { baseDir: HF_FIXTURES_DIR, seed: 0 })) as BertModel;
    expect(model.config.hidden_dropout_prob).toBe(0);
    expect(model.config.attention_probs_dropout_prob).toBe(0.1);
    expect(model.loadReport).toEqual({ missing: [], unexpected: ['classifier.bias', 'classifier.weight'] });
    model.dispose();
  });

  it('reports bad options at config time with the option path', async () => {
    const registry = new Registry().register(plugin);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-plugin-'));
    const check = (options: Record<string, unknown>) => resolveExperiment({ model: { name: 'bert', options } }, registry, { baseDir: dir });
    await expect(check({ hiddenSize: 30, numAttentionHeads: 4 })).rejects.toThrow(/model\.options\.hiddenSize: hiddenSize \(30\) is not a multiple of numAttentionHeads \(4\)/);
    await expect(check({ pretrained: 'x', hiddenSize: 64 })).rejects.toThrow(/model\.options\.hiddenSize: cannot be combined with "pretrained"/);
    await expect(check({ hiddenSize: 64, hidden_size: 64 })).rejects.toThrow(/model\.options\.hidden_size: "hiddenSize" and "hidden_size" are the same option; give only one of them/);
    await expect(check({ hidden_size: 30, num_attention_heads: 4 })).rejects.toThrow(/hiddenSize \(30\) is not a multiple of numAttentionHeads \(4\)/);
    await expect(check({ pretrained: 'x', num_hidden_layers: 2 })).rejects.toThrow(/model\.options\.num_hidden_layers: cannot be combined with "pretrained"/);
    await expect(check({ hiddensize: 64 })).rejects.toThrow(ConfigError);
    await expect(check({ hiddenAct: 'swish' })).rejects.toThrow(/model\.options\.hiddenAct/);
    fs.rmSync(dir, { recursive: true });
  });
});
