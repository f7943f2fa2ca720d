/** Behaviour beyond parity: dropout, initialisation, the plugin, parameter names. */
import * as tf from '@tensorflow/tfjs-core';
import { Registry, initBackend, parseWithPath, resolveExperiment } from '@pretrain/core';
import { Gpt2Model, gpt2OptionsSchema, pretrainPlugins } from './index';
import { HF_FIXTURES_DIR } from '@pretrain/core/testing';

const tiny = { vocab_size: 50, n_embd: 16, n_head: 2, n_layer: 2, n_positions: 32, bos_token_id: 0, eos_token_id: 0 };

beforeAll(async () => {
  await initBackend({ log: false });
});

function run(model: Gpt2Model, training: boolean, dropoutSeed?: number): number[] {
  return tf.tidy(() => {
    const inputIds = tf.tensor2d([[1, 5, 7, 9, 2, 3]], [1, 6], 'int32');
    return Array.from(model.forward({ inputIds }, { training, dropoutSeed }).sequenceOutput.dataSync());
  });
}

describe('Gpt2Model', () => {
  it('applies seeded dropout only in training, and none at rate 0', () => {
    const model = new Gpt2Model({ ...tiny, resid_pdrop: 0.3, embd_pdrop: 0.3, attn_pdrop: 0.3 }, { seed: 1 });
    const evalOut = run(model, false);
    expect(run(model, true, 42)).toEqual(run(model, true, 42));
    expect(run(model, true, 42)).not.toEqual(run(model, true, 43));
    expect(run(model, true, 42)).not.toEqual(evalOut);
    model.dispose();
    const noDropout = new Gpt2Model({ ...tiny, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, { seed: 1 });
    expect(run(noDropout, true, 5)).toEqual(run(noDropout, false));
    noDropout.dispose();
  });

  it('is causal: changing a later token leaves earlier outputs unchanged', () => {
    const model = new Gpt2Model(tiny, { seed: 4 });
    const a = tf.tidy(() => model.forward({ inputIds: tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32') }, { training: false }).sequenceOutput.arraySync()[0]);
    const b = tf.tidy(() => model.forward({ inputIds: tf.tensor2d([[1, 2, 3, 9]], [1, 4], 'int32') }, { training: false }).sequenceOutput.arraySync()[0]);
    expect(b.slice(0, 3)).toEqual(a.slice(0, 3));
    expect(b[3]).not.toEqual(a[3]);
    model.dispose();
  });

  it('masks padded keys: a masked (left-pad) token does not affect the other positions', () => {
    const model = new Gpt2Model(tiny, { seed: 4 });
    const run = (first: number) =>
      tf.tidy(() => {
        const out = model.forward({ inputIds: tf.tensor2d([[first, 1, 2, 3]], [1, 4], 'int32'), attentionMask: tf.tensor2d([[0, 1, 1, 1]], [1, 4], 'int32') }, { training: false });
        return Array.from(tf.slice(out.sequenceOutput, [0, 1, 0], [1, 3, 16]).dataSync());
      });
    const a = run(5);
    const b = run(9);
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-6));
    model.dispose();
  });

  it('initialises c_proj weights with initializer_range / sqrt(2 n_layer), as HF', () => {
    const model = new Gpt2Model({ ...tiny, n_embd: 64, n_layer: 8, initializer_range: 0.1 }, { seed: 2 });
    const std = (name: string) => {
      const v = model.variables().get(name)!.dataSync() as Float32Array;
      return Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
    };
    expect(std('h.0.attn.c_attn.weight')).toBeCloseTo(0.1, 2);
    expect(std('h.0.mlp.c_proj.weight')).toBeCloseTo(0.1 / 4, 2);
    model.dispose();
  });

  it('names parameters as HF GPT2Model and maps them to layer depth', () => {
    const model = new Gpt2Model(tiny);
    expect([...model.variables().keys()].slice(0, 4)).toEqual(['wte.weight', 'wpe.weight', 'h.0.ln_1.weight', 'h.0.ln_1.bias']);
    expect(model.variables().get('h.1.attn.c_attn.weight')!.shape).toEqual([16, 48]);
    expect(model.layerIndexOf('transformer.wpe.weight')).toBe(0);
    expect(model.layerIndexOf('h.1.mlp.c_fc.bias')).toBe(2);
    expect(model.layerIndexOf('ln_f.weight')).toBe(3);
    expect(model.inputEmbeddings()).toBe(model.variables().get('wte.weight'));
    expect(model.info).toMatchObject({ modelType: 'gpt2', basePrefix: 'transformer', attention: 'causal', hiddenAct: 'gelu_new', layerNormEps: 1e-5 });
    const before = tf.memory().numTensors;
    run(model, true, 3);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('the gpt2 plugin', () => {
  const plugin = pretrainPlugins[0];

  it('is a causal model plugin named gpt2 that builds from camelCase HF options', async () => {
    expect(plugin).toMatchObject({ kind: 'model', name: 'gpt2', meta: { attention: 'causal' } });
    const options = parseWithPath(gpt2OptionsSchema, { vocabSize: 65, nEmbd: 32, nHead: 4, nLayer: 1, nPositions: 64, bosTokenId: null, eosTokenId: null }, 'model.options');
    const model = (await plugin.create(options, { baseDir: '.', seed: 0 })) as Gpt2Model;
    expect(model.config).toMatchObject({ vocab_size: 65, n_embd: 32, n_head: 4, n_layer: 1, n_positions: 64, activation_function: 'gelu_new' });
    model.dispose();
  });

  it('builds the same model from HF snake_case options as from camelCase ones', async () => {
    const camel = parseWithPath(gpt2OptionsSchema, { vocabSize: 65, nEmbd: 32, nHead: 4, nLayer: 1, nPositions: 64, bosTokenId: null, eosTokenId: null }, 'model.options');
    const snake = parseWithPath(gpt2OptionsSchema, { vocab_size: 65, n_embd: 32, n_head: 4, n_layer: 1, n_positions: 64, bos_token_id: null, eos_token_id: null }, 'model.options');
    expect(snake).toEqual(camel);
    const fromCamel = (await plugin.create(camel, { baseDir: '.', seed: 0 })) as Gpt2Model;
    const fromSnake = (await plugin.create(snake, { baseDir: '.', seed: 0 })) as Gpt2Model;
    expect(fromSnake.config).toEqual(fromCamel.config);
    const weights = (model: Gpt2Model) => [...model.stateDict()].map(([name, tensor]) => [name, Array.from(tensor.dataSync())]);
    expect(weights(fromSnake)).toEqual(weights(fromCamel));
    fromCamel.dispose();
    fromSnake.dispose();
  });

  it('loads `pretrained` relative to the config directory', async () => {
    const options = parseWithPath(gpt2OptionsSchema, { pretrained: 'gpt2/model', residPdrop: 0 }, 'model.options');
    const model = (await plugin.create(options, { baseDir: HF_FIXTURES_DIR, seed: 0 })) as Gpt2Model;
    expect(model.loadReport).toEqual({ missing: [], unexpected: [] });
    expect(model.config.resid_pdrop).toBe(0);
    model.dispose();
  });

  it('reports bad options at config time with the option path', async () => {
    const registry = new Registry().register(plugin);
    const check = (options: Record<string, unknown>) => resolveExperiment({ model: { name: 'gpt2', options } }, registry, { baseDir: '.' });
    await expect(check({ nEmbd: 30, nHead: 4 })).rejects.toThrow(/model\.options\.nEmbd: nEmbd \(30\) is not a multiple of nHead \(4\)/);
    await expect(check({ pretrained: 'x', nLayer: 2 })).rejects.toThrow(/model\.options\.nLayer: cannot be combined with "pretrained"/);
    await expect(check({ nLayer: 2, n_layer: 2 })).rejects.toThrow(/model\.options\.n_layer: "nLayer" and "n_layer" are the same option; give only one of them/);
    await expect(check({ nlayer: 2 })).rejects.toThrow(/unknown option/);
  });
});
