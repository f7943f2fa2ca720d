import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, type BackboneInfo, type BackboneOutput, type BackbonePlugin, type Batch, type BatchTensors } from '@pretrain/core';
import { loadSafetensorsAsTensors } from '@pretrain/core';
import { fixtureHostBatch, HF_FIXTURES_DIR } from '@pretrain/core/testing';

export { maxAbsDiff } from '@pretrain/core/testing';

export const fixturesDir = HF_FIXTURES_DIR;

export interface HeadFixture {
  json: any;
  weights: Map<string, tf.Tensor>;
  outputs: Map<string, tf.Tensor>;
  grads: Map<string, tf.Tensor>;
  /** The backbone's output as HF computed it: last hidden state and the BERT pooler applied to it. */
  backboneOutput: BackboneOutput;
  dispose(): void;
}

/** Loads an HF head fixture; the backbone output comes from HF's own hidden states (no model needed). */
export function loadHeadFixture(name: string): HeadFixture {
  const dir = path.join(fixturesDir, name);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'fixture.json'), 'utf8'));
  const weights = loadSafetensorsAsTensors(path.join(dir, 'model/model.safetensors'));
  const outputs = loadSafetensorsAsTensors(path.join(dir, 'outputs.safetensors'));
  const grads = loadSafetensorsAsTensors(path.join(dir, 'grads.safetensors'));
  const last = outputs.get(`hidden_states.${json.config.num_hidden_layers}`) as tf.Tensor3D;
  // BertPooler: tanh(dense(h[:, 0])) with HF [out, in] weights.
  const poolerWeight = weights.get('bert.pooler.dense.weight');
  const pooledOutput = poolerWeight && tf.tidy(() => {
    const [b, , h] = last.shape;
    const first = tf.reshape(tf.slice(last, [0, 0, 0], [b, 1, h]), [b, h]);
    return tf.tanh(tf.add(tf.matMul(first, poolerWeight, false, true), weights.get('bert.pooler.dense.bias')!)) as tf.Tensor2D;
  });
  return {
    json,
    weights,
    outputs,
    grads,
    backboneOutput: { sequenceOutput: last, pooledOutput },
    dispose() {
      for (const m of [weights, outputs, grads]) for (const t of m.values()) t.dispose();
      pooledOutput?.dispose();
    },
  };
}

/** Just enough of a backbone for head.init(): the info heads size themselves from. */
export function fakeBackbone(config: any): BackbonePlugin {
  const info: BackboneInfo = {
    modelType: config.model_type,
    basePrefix: config.model_type === 'gpt2' ? 'transformer' : 'bert',
    attention: config.model_type === 'gpt2' ? 'causal' : 'bidirectional',
    vocabSize: config.vocab_size,
    hiddenSize: config.hidden_size,
    numLayers: config.num_hidden_layers,
    maxPositions: config.max_position_embeddings,
    hiddenAct: config.hidden_act,
    layerNormEps: config.layer_norm_eps,
    initializerRange: config.initializer_range,
    hiddenDropoutProb: config.hidden_dropout_prob,
  };
  const unused = () => {
    throw new Error('fake backbone: only info is available');
  };
  return { info, forward: unused, inputEmbeddings: unused, configJSON: () => config, layerIndexOf: unused, variables: () => new Map(), stateDict: () => new Map(), loadStateDict: () => ({ missing: [], unexpected: [] }), dispose: () => undefined };
}

/** BatchTensors whose host batch carries the given label fields (the heads read labels from there). */
export function batchWithFields(json: any, fields: Batch['fields']): BatchTensors {
  // The heads only read host fields; tensors stay unused placeholders sized like the batch.
  return { inputIds: null as any, attentionMask: null as any, tokenTypeIds: null as any, host: fixtureHostBatch(json.inputs, fields) };
}

export const testRng = () => new Rng(7);
