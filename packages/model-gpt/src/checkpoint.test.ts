/**
 * HF checkpoints in and out: a GPT2LMHeadModel checkpoint saved here is identical to the one HF
 * wrote (tied lm_head not stored); a bare GPT2Model checkpoint has unprefixed names.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, readSafetensors } from '@pretrain/core';
import { Gpt2Model } from './index';
import { hfCheckpointComparison, loadHfFixture, safetensorsDifferences, tempDirPerTest } from '@pretrain/core/testing';

const gpt2 = loadHfFixture('gpt2');
const hfFile = path.join(gpt2.modelDir, 'model.safetensors');
const tmp = tempDirPerTest('model-gpt-');

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('GPT-2 checkpoints', () => {
  it('round trip as GPT2LMHeadModel: the file HF wrote, byte for byte, and the same config', () => {
    const model = Gpt2Model.fromPretrained(gpt2.modelDir);
    model.savePretrained(tmp(), { lmHead: true });
    expect(hfCheckpointComparison(tmp(), gpt2.modelDir)).toEqual({ tensorDifferences: [], identicalBytes: true, sameConfig: true, files: ['config.json', 'model.safetensors'] });
    model.dispose();
  });

  it('saves a bare GPT2Model with unprefixed names that loads back completely', () => {
    const model = Gpt2Model.fromPretrained(gpt2.modelDir);
    model.savePretrained(tmp());
    const expected = new Map([...readSafetensors(hfFile).tensors].map(([n, t]) => [n.replace(/^transformer\./, ''), t]));
    expect(safetensorsDifferences(path.join(tmp(), 'model.safetensors'), expected)).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(tmp(), 'config.json'), 'utf8')).architectures).toEqual(['GPT2Model']);
    const reloaded = Gpt2Model.fromPretrained(tmp());
    expect(reloaded.loadReport).toEqual({ missing: [], unexpected: [] });
    reloaded.dispose();
    model.dispose();
  });

  it('ignores HF attention-mask buffers and an explicit tied lm_head, reports other extras and gaps by name', () => {
    const model = new Gpt2Model({ vocab_size: 10, n_embd: 8, n_head: 2, n_layer: 1, n_positions: 8, bos_token_id: 0, eos_token_id: 0 });
    const state = model.stateDict();
    state.delete('ln_f.bias');
    const tf = jest.requireActual('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
    state.set('h.0.attn.bias', tf.ones([1, 1, 8, 8]));
    state.set('score.weight', tf.ones([8, 2]));
    const report = model.loadStateDict(state);
    expect(report).toEqual({ missing: ['ln_f.bias'], unexpected: ['score.weight'] });
    state.forEach((t) => t.dispose());
    model.dispose();
  });

  it('refuses oversized models before allocating them', () => {
    const tf = jest.requireActual('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
    const before = tf.memory().numTensors;
    expect(() => new Gpt2Model({ vocab_size: 10, n_embd: 64, n_head: 2, n_layer: 1, n_positions: 10_000_000, bos_token_id: 0, eos_token_id: 0 })).toThrow(/GPT-2: .* parameters need 2\.\d\d GiB .* \(largest: wpe\.weight \[10000000, 64\]\)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects inconsistent configs and over-long inputs with clear errors', () => {
    expect(() => new Gpt2Model({ n_embd: 30, n_head: 4, vocab_size: 10, bos_token_id: 0, eos_token_id: 0 })).toThrow(/n_embd \(30\) is not a multiple of n_head \(4\)/);
    expect(() => new Gpt2Model({ vocab_size: 10, n_embd: 8, n_head: 2 })).toThrow(/bos_token_id \(50256\) must be below vocab_size \(10\)/);
    expect(() => new Gpt2Model({ activation_function: 'swish' })).toThrow(/activation_function/);
    const tf = jest.requireActual('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
    const model = new Gpt2Model({ vocab_size: 10, n_embd: 8, n_head: 2, n_layer: 1, n_positions: 4, bos_token_id: 0, eos_token_id: 0 });
    const ids = tf.zeros([1, 5], 'int32') as import('@tensorflow/tfjs-core').Tensor2D;
    expect(() => model.forward({ inputIds: ids }, { training: false })).toThrow(/reaches position 5 but n_positions is 4/);
    ids.dispose();
    model.dispose();
  });
});
