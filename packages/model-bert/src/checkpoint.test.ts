/**
 * HF checkpoints in and out: loading reports missing/unexpected tensors by name, saving writes
 * exactly HF's tensor names, shapes, values and header metadata (compared with the files HF wrote).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { PretrainError, checkParameterMemory, initBackend, readSafetensors, type ParameterModule } from '@pretrain/core';
import { BertModel } from './index';
import { hfCheckpointComparison, loadHfFixture, safetensorsDifferences, tempDirPerTest } from '@pretrain/core/testing';
import { PretrainingHeadsDouble } from './test-utils/heads';

const pretraining = loadHfFixture('bert-pretraining');
const hfFile = path.join(pretraining.modelDir, 'model.safetensors');
const tmp = tempDirPerTest('model-bert-');

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('BERT checkpoints', () => {
  it('round trip with heads: a BertForPreTraining checkpoint identical to the one HF wrote', () => {
    const heads = new PretrainingHeadsDouble(64, 1000, 1e-12);
    const model = BertModel.fromPretrained(pretraining.modelDir, { heads: [heads] });
    model.savePretrained(tmp(), { heads: [heads] });
    // Same ordering and header layout as HF's writer: byte-identical files.
    expect(hfCheckpointComparison(tmp(), pretraining.modelDir)).toEqual({ tensorDifferences: [], identicalBytes: true, sameConfig: true, files: ['config.json', 'model.safetensors'] });
    model.dispose();
    heads.dispose();
  });

  it('an MLM-only save is BertForMaskedLM, without the pooler that HF class does not have', () => {
    const heads = new PretrainingHeadsDouble(64, 1000, 1e-12);
    const model = BertModel.fromPretrained(pretraining.modelDir, { heads: [heads] });
    const mlmOnly = {
      // As the MLM objective declares itself: BertForMaskedLM has no pooler; the decoder is tied.
      hfHead: { suffix: 'ForMaskedLM', withoutBackbone: ['pooler.'], tiedNames: ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'] },
      stateDict: () => new Map([...heads.stateDict()].filter(([name, t]) => name.startsWith('cls.predictions.') || (t.dispose(), false))),
    } as unknown as ParameterModule;
    model.savePretrained(tmp(), { heads: [mlmOnly] });
    const hf = readSafetensors(hfFile).tensors;
    const expected = new Map([...hf].filter(([n]) => !n.startsWith('bert.pooler.') && !n.startsWith('cls.seq_relationship.')));
    expect(expected.size).toBe(hf.size - 4);
    expect(safetensorsDifferences(path.join(tmp(), 'model.safetensors'), expected)).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(tmp(), 'config.json'), 'utf8')).architectures).toEqual(['BertForMaskedLM']);
    model.dispose();
    heads.dispose();
  });

  it('a bare backbone loads a pre-training checkpoint, reports the head tensors, and saves BertModel names', () => {
    const model = BertModel.fromPretrained(pretraining.modelDir);
    // BertForPreTraining's head tensors (the decoder is tied and not stored).
    const headNames = [
      'cls.predictions.transform.dense.weight',
      'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.LayerNorm.bias',
      'cls.predictions.bias',
      'cls.seq_relationship.weight',
      'cls.seq_relationship.bias',
    ];
    expect(model.loadReport!.missing).toEqual([]);
    expect([...model.loadReport!.unexpected].sort()).toEqual([...headNames].sort());
    model.savePretrained(tmp());
    const hf = readSafetensors(hfFile).tensors;
    const backboneOnly = new Map([...hf].filter(([n]) => n.startsWith('bert.')).map(([n, t]) => [n.slice('bert.'.length), t]));
    expect(safetensorsDifferences(path.join(tmp(), 'model.safetensors'), backboneOnly)).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(tmp(), 'config.json'), 'utf8')).architectures).toEqual(['BertModel']);
    // ... and the saved unprefixed checkpoint loads back with nothing missing.
    const reloaded = BertModel.fromPretrained(tmp());
    expect(reloaded.loadReport).toEqual({ missing: [], unexpected: [] });
    reloaded.dispose();
    model.dispose();
  });

  it('reports the pooler missing from a token-classification checkpoint unless it is built without one', () => {
    const tokcls = loadHfFixture('bert-tokcls');
    const withPooler = BertModel.fromPretrained(tokcls.modelDir);
    expect(withPooler.loadReport).toEqual({ missing: ['pooler.dense.weight', 'pooler.dense.bias'], unexpected: ['classifier.bias', 'classifier.weight'] });
    withPooler.dispose();
    const noPooler = BertModel.fromPretrained(tokcls.modelDir, { addPoolingLayer: false });
    expect(noPooler.loadReport!.missing).toEqual([]);
    tf.tidy(() => {
      const out = noPooler.forward({ inputIds: tf.tensor2d([[1, 2, 3]], [1, 3], 'int32') }, { training: false });
      expect(out.pooledOutput).toBeUndefined();
    });
    noPooler.dispose();
  });

  it('loads legacy LayerNorm gamma/beta names (original BERT checkpoints) as HF does', () => {
    const model = BertModel.fromPretrained(pretraining.modelDir);
    const state = model.stateDict();
    const legacy = new Map([...state].map(([name, t]) => [`bert.${name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')}`, t]));
    expect([...legacy.keys()]).toContain('bert.embeddings.LayerNorm.gamma');
    const fresh = new BertModel(model.config, { seed: 5 });
    expect(fresh.loadStateDict(legacy)).toEqual({ missing: [], unexpected: [] });
    expect(fresh.variables().get('encoder.layer.1.output.LayerNorm.bias')!.dataSync()).toEqual(model.variables().get('encoder.layer.1.output.LayerNorm.bias')!.dataSync());
    state.forEach((t) => t.dispose());
    fresh.dispose();
    model.dispose();
  });

  it('names the tensor and file when shapes disagree with config.json, before allocating the model', () => {
    fs.copyFileSync(hfFile, path.join(tmp(), 'model.safetensors'));
    const config = JSON.parse(fs.readFileSync(path.join(pretraining.modelDir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(tmp(), 'config.json'), JSON.stringify({ ...config, vocab_size: 999 }));
    const before = tf.memory().numTensors;
    expect(() => BertModel.fromPretrained(tmp())).toThrow(/model\.safetensors: tensor "bert\.embeddings\.word_embeddings\.weight" has shape \[1000, 64\] but config\.json implies \[999, 64\]: the config and the weights disagree/);
    // A config far too big for its weights is refused by the header, not by a failed allocation.
    fs.writeFileSync(path.join(tmp(), 'config.json'), JSON.stringify({ ...config, max_position_embeddings: 4_000_000 }));
    expect(() => BertModel.fromPretrained(tmp())).toThrow(/position_embeddings\.weight" has shape \[\d+, 64\] but config\.json implies \[4000000, 64\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a model whose parameters exceed the memory limit before allocating, unless PRETRAIN_MAX_PARAMETER_GB raises it', () => {
    const before = tf.memory().numTensors;
    const huge = { vocab_size: 100, hidden_size: 64, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 64, max_position_embeddings: 10_000_000 };
    expect(() => new BertModel(huge)).toThrow(PretrainError);
    expect(() => new BertModel(huge)).toThrow(/BERT: 640,\d{3},\d{3} parameters need 2\.\d\d GiB of float32 memory, over the 2\.00 GiB limit \(largest: embeddings\.position_embeddings\.weight \[10000000, 64\]\)\..*PRETRAIN_MAX_PARAMETER_GB=<GiB>/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => checkParameterMemory('BERT', [{ name: 'w', shape: [1024, 1024, 1024] }], { PRETRAIN_MAX_PARAMETER_GB: '4.5' })).not.toThrow();
    expect(() => checkParameterMemory('BERT', [{ name: 'w', shape: [1024, 1024, 1024] }], { PRETRAIN_MAX_PARAMETER_GB: '3.5' })).toThrow(/over the 3\.50 GiB limit/);
    expect(() => checkParameterMemory('BERT', [], { PRETRAIN_MAX_PARAMETER_GB: 'lots' })).toThrow('PRETRAIN_MAX_PARAMETER_GB=lots: expected a positive number of GiB');
  });

  it('rejects inconsistent or unknown config values with the field named', () => {
    expect(() => new BertModel({ hidden_size: 30, num_attention_heads: 4, vocab_size: 10 })).toThrow(/hidden_size \(30\) is not a multiple of num_attention_heads \(4\)/);
    expect(() => new BertModel({ hidden_act: 'swish', vocab_size: 10, hidden_size: 8, num_attention_heads: 2 })).toThrow(/hidden_act/);
    expect(() => new BertModel({ position_embedding_type: 'relative_key', vocab_size: 10 })).toThrow(/position_embedding_type/);
    fs.writeFileSync(path.join(tmp(), 'config.json'), '{"model_type": "bert", "num_hidden_layers": -1}');
    expect(() => BertModel.fromPretrained(tmp())).toThrow(PretrainError);
    expect(() => BertModel.fromPretrained(tmp())).toThrow(/config\.json: invalid BERT config:\n {2}num_hidden_layers/);
    expect(() => BertModel.fromPretrained(path.join(tmp(), 'nope'))).toThrow(/config\.json: not found/);
  });

  it('rejects sequences longer than max_position_embeddings', () => {
    const model = new BertModel({ vocab_size: 20, hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 16, max_position_embeddings: 4 });
    const ids = tf.zeros([1, 5], 'int32') as tf.Tensor2D;
    expect(() => model.forward({ inputIds: ids }, { training: false })).toThrow(/5 tokens but max_position_embeddings is 4/);
    const short = tf.zeros([1, 3], 'int32') as tf.Tensor2D;
    expect(() => model.forward({ inputIds: short, attentionMask: tf.ones([1, 4], 'int32') as tf.Tensor2D }, { training: false })).toThrow(/attentionMask has shape \[1,4\] but inputIds has \[1,3\]/);
    short.dispose();
    ids.dispose();
    model.dispose();
  });
});
