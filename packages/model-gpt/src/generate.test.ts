/**
 * Generation against HF's GPT2LMHeadModel.generate (fixtures/hf/gpt2-generate: greedy, 12 new
 * tokens for an 8-token prompt, each step's scores) and against step-by-step argmax over full forwards.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PretrainError, Rng, initBackend } from '@pretrain/core';
import { Gpt2Model, argmax, disposeCache, pickToken, samplingDistribution, type KVCache } from './index';
import { int2d, loadHfFixture, maxAbsDiff } from '@pretrain/core/testing';
import { lmLogits } from './test-utils/lm-loss';

const ATOL = 1e-4;
const fixture = loadHfFixture('gpt2-generate');
const prompt = fixture.json.inputs.input_ids[0];
const hfGenerated = Array.from(fixture.outputs.get('generated_ids')!.data);
const hfScores = fixture.outputs.get('generate_scores')!;
let model: Gpt2Model;

beforeAll(async () => {
  await initBackend({ log: false });
  model = Gpt2Model.fromPretrained(fixture.modelDir);
});
afterAll(() => model.dispose());

/** Greedy decoding the slow, obvious way: a full forward over the whole sequence per token. */
function argmaxOverFullForwards(tokens: number[], steps: number): number[] {
  const sequence = [...tokens];
  for (let step = 0; step < steps; step++) {
    const logits = tf.tidy(() => {
      const output = model.forward({ inputIds: int2d([sequence]) }, { training: false });
      const all = lmLogits(model, output.sequenceOutput);
      return tf.slice(all, [0, sequence.length - 1, 0], [1, 1, model.config.vocab_size]);
    });
    sequence.push(argmax(logits.dataSync()));
    logits.dispose();
  }
  return sequence.slice(tokens.length);
}

function expectScoresMatch(scores: Float32Array[]) {
  const vocab = model.config.vocab_size;
  scores.forEach((row, step) => {
    const expected = { shape: [vocab], data: hfScores.data.subarray(step * vocab, (step + 1) * vocab) };
    expect(maxAbsDiff(tf.tensor1d(row), expected)).toBeLessThan(ATOL);
  });
}

describe('Gpt2Model.generate (greedy)', () => {
  it('reproduces HF generate: the 12 ids and every step\'s scores, with the KV cache', () => {
    const scores: Float32Array[] = [];
    const before = tf.memory().numTensors;
    const [generated] = model.generate(prompt, { maxNewTokens: 12, stopTokens: [], onLogits: (_, logits) => scores.push(logits) });
    expect(tf.memory().numTensors).toBe(before);
    expect(generated).toEqual(hfGenerated);
    expect(scores).toHaveLength(12);
    tf.tidy(() => expectScoresMatch(scores));
  });

  it('gives the same ids and scores without the cache', () => {
    const scores: Float32Array[] = [];
    const [generated] = model.generate(prompt, { maxNewTokens: 12, stopTokens: [], useCache: false, onLogits: (_, logits) => scores.push(logits) });
    expect(generated).toEqual(hfGenerated);
    tf.tidy(() => expectScoresMatch(scores));
  });

  it('equals step-by-step argmax over full forwards', () => {
    expect(argmaxOverFullForwards(prompt, 12)).toEqual(hfGenerated);
    const longer = [5, 17, 300, 42];
    expect(model.generate(longer, { maxNewTokens: 20, stopTokens: [] })[0]).toEqual(argmaxOverFullForwards(longer, 20));
  });

  it('matches HF\'s full forward over prompt + generated tokens', () => {
    tf.tidy(() => {
      const sequences = Array.from(fixture.outputs.get('sequences')!.data);
      expect(sequences).toEqual([...prompt, ...hfGenerated]);
      const output = model.forward({ inputIds: int2d([sequences]) }, { training: false, outputHiddenStates: true });
      output.hiddenStates!.forEach((h, n) => expect(maxAbsDiff(h, fixture.outputs.get(`hidden_states.${n}`)!)).toBeLessThan(ATOL));
      expect(maxAbsDiff(lmLogits(model, output.sequenceOutput), fixture.outputs.get('logits')!)).toBeLessThan(ATOL);
    });
  });

  it('stops a row after a stop token and handles batches of prompts', () => {
    const stopAt = hfGenerated[3];
    expect(model.generate(prompt, { maxNewTokens: 12, stopTokens: [stopAt] })[0]).toEqual(hfGenerated.slice(0, hfGenerated.indexOf(stopAt) + 1));
    const other = [1, 2, 3, 4, 5, 6, 7, 8];
    const batch = model.generate([prompt, other], { maxNewTokens: 6, stopTokens: [] });
    expect(batch[0]).toEqual(hfGenerated.slice(0, 6));
    expect(batch[1]).toEqual(argmaxOverFullForwards(other, 6));
  });

  it('streams each token through onToken as it is chosen', () => {
    const streamed: [number, number, number][] = [];
    const [generated] = model.generate(prompt, { maxNewTokens: 5, stopTokens: [], onToken: (token, row, step) => streamed.push([token, row, step]) });
    expect(streamed).toEqual(generated.map((token, step) => [token, 0, step]));
  });

  it('rejects prompts that would run past n_positions', () => {
    expect(() => model.generate(prompt, { maxNewTokens: 125 })).toThrow(PretrainError);
    expect(() => model.generate(prompt, { maxNewTokens: 125 })).toThrow(/n_positions \(128\)/);
  });
});

describe('KV cache', () => {
  it('feeding tokens one at a time gives the full forward\'s hidden states', () => {
    const tokens = [...prompt, ...hfGenerated];
    tf.tidy(() => {
      const full = model.forward({ inputIds: int2d([tokens]) }, { training: false }).sequenceOutput;
      const expected = full.arraySync()[0];
      let cache: KVCache | undefined;
      const prefill = model.forwardWithCache(int2d([tokens.slice(0, 5)]));
      cache = prefill.cache;
      expect(maxAbsDiff(prefill.hidden, { shape: [1, 5, 64], data: Float32Array.from(expected.slice(0, 5).flat()) })).toBeLessThan(ATOL);
      for (let t = 5; t < tokens.length; t++) {
        const step = model.forwardWithCache(int2d([[tokens[t]]]), cache);
        expect(step.cache.length).toBe(t + 1);
        expect(maxAbsDiff(step.hidden, { shape: [1, 1, 64], data: Float32Array.from(expected[t]) })).toBeLessThan(ATOL);
        cache = step.cache;
      }
      disposeCache(cache);
    });
  });
});

describe('KV cache decoding on other configurations', () => {
  // Larger weights than HF's init, so attention is far from uniform and a wrong scale or head shows.
  const base = { vocab_size: 40, n_embd: 30, n_head: 3, n_layer: 2, n_positions: 32, initializer_range: 0.3, bos_token_id: 0, eos_token_id: 0 };
  const rows = [
    [3, 17, 5, 22, 9, 1, 30, 12, 7, 7, 25, 4, 38, 2, 11, 19],
    [8, 2, 33, 14, 0, 21, 6, 6, 39, 10, 27, 13, 5, 31, 16, 24],
  ];

  /** Prefill 3 positions into a cache of capacity 2, then single tokens, then a 4-token chunk. */
  function cachedHidden(model: Gpt2Model, cache: KVCache): number[][][] {
    const pieces = [[0, 3], ...Array.from({ length: 9 }, (_, i) => [3 + i, 4 + i]), [12, 16]];
    return tf.tidy(() => {
      const outputs = pieces.map(([from, to]) => model.forwardWithCache(int2d(rows.map((row) => row.slice(from, to))), cache).hidden);
      return (tf.concat(outputs, 1) as tf.Tensor3D).arraySync();
    });
  }

  it.each([
    ['gelu (erf)', { activation_function: 'gelu' }],
    ['relu, attention scaled by 1 / (layer + 1)', { activation_function: 'relu', scale_attn_by_inverse_layer_idx: true }],
    ['gelu_new, unscaled attention', { scale_attn_weights: false }],
  ])('%s: equals the full forward, growing the cache past its capacity', (_, overrides) => {
    const model = new Gpt2Model({ ...base, ...overrides }, { seed: 9 });
    const cache = model.createCache(2, 2);
    const before = tf.memory().numTensors;
    const cached = cachedHidden(model, cache);
    expect(tf.memory().numTensors).toBe(before);
    expect(cache.length).toBe(16);
    expect(cache.capacity).toBeGreaterThanOrEqual(16);
    tf.tidy(() => {
      const full = model.forward({ inputIds: int2d(rows) }, { training: false }).sequenceOutput;
      const scale = Math.max(...Array.from(full.dataSync(), Math.abs));
      expect(maxAbsDiff(tf.tensor3d(cached), full) / scale).toBeLessThan(ATOL);
    });
    model.dispose();
  });

  it('rejects a cache of another shape and input past n_positions', () => {
    const model = new Gpt2Model(base, { seed: 1 });
    const other = new Gpt2Model({ ...base, n_layer: 1 }, { seed: 1 });
    tf.tidy(() => {
      expect(() => model.forwardWithCache(int2d([[1]]), model.createCache(2, 4))).toThrow(/cache holds 2 rows but the input has 1/);
      expect(() => model.forwardWithCache(int2d([[1]]), other.createCache(1, 4))).toThrow(/1 layers × 3 heads × 10 but the model has 2 × 3 × 10/);
      const cache = model.createCache(1, 4);
      model.forwardWithCache(int2d([Array.from({ length: 31 }, (_, i) => i % 40)]), cache);
      expect(() => model.forwardWithCache(int2d([[1, 2]]), cache)).toThrow(/reaches position 33 but n_positions is 32/);
    });
    model.dispose();
    other.dispose();
  });
});

describe('sampling', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    const sample = (seed: number) => model.generate(prompt, { maxNewTokens: 10, doSample: true, temperature: 1.5, seed, stopTokens: [] })[0];
    expect(sample(7)).toEqual(sample(7));
    expect(sample(7)).not.toEqual(sample(8));
  });

  it('with topK 1 (or a tiny topP) is greedy', () => {
    expect(model.generate(prompt, { maxNewTokens: 12, doSample: true, topK: 1, seed: 3, stopTokens: [] })[0]).toEqual(hfGenerated);
    expect(model.generate(prompt, { maxNewTokens: 12, doSample: true, topP: 1e-6, seed: 3, stopTokens: [] })[0]).toEqual(hfGenerated);
  });

  it('builds the distribution as HF\'s temperature → top-k → top-p warpers do', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const close = (actual: Float64Array, expected: number[]) => expected.forEach((p, i) => expect(actual[i]).toBeCloseTo(p, 6));
    close(samplingDistribution(logits, {}), [0.5, 0.3, 0.15, 0.05]);
    close(samplingDistribution(logits, { topK: 2 }), [0.5 / 0.8, 0.3 / 0.8, 0, 0]);
    // top-p 0.75: drop tokens whose ascending cumulative mass stays ≤ 0.25 (0.05, then 0.15 → 0.2).
    close(samplingDistribution(logits, { topP: 0.75 }), [0.5 / 0.8, 0.3 / 0.8, 0, 0]);
    close(samplingDistribution(logits, { topP: 0.9 }), [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0]);
    const t2 = [0.5, 0.3, 0.15, 0.05].map(Math.sqrt);
    const z = t2.reduce((a, b) => a + b, 0);
    close(samplingDistribution(logits, { temperature: 2 }), t2.map((p) => p / z));
  });

  it('draws tokens with the distribution\'s frequencies', () => {
    const rng = new Rng(11);
    const logits = new Float32Array([0, Math.log(3), -Infinity, Math.log(6)]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[pickToken(logits, { doSample: true }, rng)]++;
    expect(counts[2]).toBe(0);
    expect(counts[0] / 20000).toBeCloseTo(0.1, 1);
    expect(counts[3] / 20000).toBeCloseTo(0.6, 1);
  });

  it('rejects bad sampling options with a clear error', () => {
    expect(() => model.generate(prompt, { doSample: true, temperature: 0 })).toThrow(/temperature must be > 0/);
    expect(() => model.generate(prompt, { doSample: true, topP: 1.5 })).toThrow(/topP must be in/);
  });
});
