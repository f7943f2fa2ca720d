// BERT + MLM + NSP against HF BertForPreTraining, GPT-2 + CLM against HF GPT2LMHeadModel: the real
// model packages with the objective plugins, loaded from the HF fixtures and saved back.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, initBackend, loadSafetensorsAsTensors, readSafetensorsHeader, Rng, type TokenizerPlugin } from '@pretrain/core';
import { maxAbsDiff } from '@pretrain/core/testing';
import { loadBertPretrained, loadWithHeads as loadBertHeads, readCheckpointTensors as readBert, saveBertPretrained } from '@pretrain/model-bert';
import { loadGpt2Pretrained, saveGpt2Pretrained } from '@pretrain/model-gpt';
import { MaskedLanguageModeling } from '@pretrain/objective-mlm';
import { NextSentencePrediction } from '@pretrain/objective-nsp';
import { CausalLanguageModeling } from '@pretrain/objective-clm';

const HF = path.join(__dirname, '../../../fixtures/hf');
const bertFixture = require(path.join(HF, 'bert-pretraining/fixture.json'));
const gptFixture = require(path.join(HF, 'gpt2/fixture.json'));

/** The fixtures use random ids; the objectives only need to know the special ids here. */
const fixtureTokenizer = { specialTokenIds: () => ({ pad: 0, mask: 4 }), isContinuation: () => false } as unknown as TokenizerPlugin;

beforeAll(() => initBackend({ log: false }));

describe('BERT + MLM + NSP vs HF BertForPreTraining (fixtures/hf/bert-pretraining)', () => {
  const dir = path.join(HF, 'bert-pretraining/model');

  /** The fixture's batch with MLM and NSP labels, padded exactly as HF's. */
  function fixtureBatch() {
    const batch = collate(
      bertFixture.inputs.input_ids.map((ids: number[], r: number) => ({
        inputIds: Int32Array.from(ids),
        tokenTypeIds: Int32Array.from(bertFixture.inputs.token_type_ids[r]),
        tokenLabels: { mlmLabels: Int32Array.from(bertFixture.labels.labels[r]) },
        labels: { nextSentenceLabel: bertFixture.labels.next_sentence_label[r] },
      })),
      { padId: 0 },
    );
    // collate derives the attention mask from lengths; the fixture pads row 1 with zeros at the end.
    batch.attentionMask.set(bertFixture.inputs.attention_mask.flat());
    return batch;
  }

  function loadAll() {
    const model = loadBertPretrained(dir);
    const mlm = new MaskedLanguageModeling();
    const nsp = new NextSentencePrediction();
    const rng = new Rng(0);
    mlm.init({ backbone: model, tokenizer: fixtureTokenizer, rng });
    nsp.init({ backbone: model, tokenizer: fixtureTokenizer, rng });
    const tensors = readBert(dir);
    const report = loadBertHeads(model, tensors, [mlm, nsp]);
    tensors.forEach((t) => t.dispose());
    return { model, mlm, nsp, report };
  }

  test('prediction logits at the labeled positions, seq_relationship logits and both losses match within 1e-4', () => {
    const { model, mlm, nsp, report } = loadAll();
    expect(report).toEqual({ missing: [], unexpected: [] });
    const outputs = loadSafetensorsAsTensors(path.join(HF, 'bert-pretraining/outputs.safetensors'));
    const batch = fixtureBatch();
    const tensors = batchToTensors(batch);
    const output = model.forward(tensors, { training: false });

    const { positions } = mlm.targets(batch);
    const reference = tf.gather(tf.reshape(outputs.get('prediction_logits')!, [-1, bertFixture.config.vocab_size]), tf.tensor1d(positions, 'int32'));
    expect(maxAbsDiff(mlm.logitsAt(output.sequenceOutput, positions), reference)).toBeLessThan(1e-4);
    expect(maxAbsDiff(nsp.logits(output.pooledOutput!), outputs.get('seq_relationship_logits')!)).toBeLessThan(1e-4);

    const mlmLoss = mlm.loss(output, tensors).loss.dataSync()[0];
    const nspLoss = nsp.loss(output, tensors).loss.dataSync()[0];
    expect(Math.abs(mlmLoss - bertFixture.outputs.mlm_loss)).toBeLessThan(1e-4);
    expect(Math.abs(nspLoss - bertFixture.outputs.nsp_loss)).toBeLessThan(1e-4);
    expect(Math.abs(mlmLoss + nspLoss - bertFixture.outputs.loss)).toBeLessThan(1e-4);
  });

  test('gradients of MLM + NSP loss for the heads and the tied word embeddings match HF within 1e-4', () => {
    const { model, mlm, nsp } = loadAll();
    const hfGrads = loadSafetensorsAsTensors(path.join(HF, 'bert-pretraining/grads.safetensors'));
    const batch = fixtureBatch();
    const tensors = batchToTensors(batch);
    const named = new Map<string, tf.Variable>([
      ...[...mlm.variables()].concat([...nsp.variables()]),
      ['bert.embeddings.word_embeddings.weight', model.inputEmbeddings()],
    ]);
    const { grads } = tf.variableGrads(() => {
      const output = model.forward(tensors, { training: false });
      return tf.add(mlm.loss(output, tensors).loss, nsp.loss(output, tensors).loss) as tf.Scalar;
    }, [...named.values()]);
    // Our Linear weights are stored [in, out]; HF's gradients are [out, in].
    const linear = new Set(['cls.predictions.transform.dense.weight', 'cls.seq_relationship.weight']);
    let compared = 0;
    for (const [name, variable] of named) {
      const ours = grads[variable.name];
      const reference = hfGrads.get(name)!;
      expect(reference).toBeDefined();
      expect(maxAbsDiff(linear.has(name) ? tf.transpose(ours) : ours, reference)).toBeLessThan(1e-4);
      compared++;
    }
    expect(compared).toBe(8);
  });

  test('saving gives exactly the tensor names and shapes of HF BertForPreTraining', () => {
    const { model, mlm, nsp } = loadAll();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'objectives-bert-'));
    try {
      saveBertPretrained(model, out, { heads: [mlm, nsp] });
      const saved = readSafetensorsHeader(path.join(out, 'model.safetensors')).tensors;
      const expected: { name: string; shape: number[] }[] = bertFixture.saved_safetensors.tensors;
      expect([...saved.keys()].sort()).toEqual(expected.map((t) => t.name).sort());
      for (const t of expected) expect(saved.get(t.name)!.shape).toEqual(t.shape);
      expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).architectures).toEqual(['BertForPreTraining']);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('GPT-2 + CLM vs HF GPT2LMHeadModel (fixtures/hf/gpt2)', () => {
  const dir = path.join(HF, 'gpt2/model');

  test('logits, loss and the tied wte gradient match within 1e-4; saving gives HF GPT2LMHeadModel tensor names', () => {
    const model = loadGpt2Pretrained(dir);
    const clm = new CausalLanguageModeling();
    clm.init({ backbone: model, tokenizer: fixtureTokenizer, rng: new Rng(0) });
    const outputs = loadSafetensorsAsTensors(path.join(HF, 'gpt2/outputs.safetensors'));
    const batch = collate(
      gptFixture.inputs.input_ids.map((ids: number[], r: number) => ({ inputIds: Int32Array.from(ids), tokenLabels: { clmLabels: Int32Array.from(gptFixture.labels.labels[r]) } })),
      { padId: 0 },
    );
    const tensors = batchToTensors(batch);
    const output = model.forward(tensors, { training: false });
    expect(maxAbsDiff(clm.logits(output.sequenceOutput), outputs.get('logits')!)).toBeLessThan(1e-4);
    expect(Math.abs(clm.loss(output, tensors).loss.dataSync()[0] - gptFixture.outputs.loss)).toBeLessThan(1e-4);
    // The tied embedding's gradient (input lookup + LM head) matches HF's.
    const { grads } = tf.variableGrads(() => clm.loss(model.forward(tensors, { training: false }), tensors).loss, [model.inputEmbeddings()]);
    const hfGrads = loadSafetensorsAsTensors(path.join(HF, 'gpt2/grads.safetensors'));
    expect(maxAbsDiff(grads[model.inputEmbeddings().name], hfGrads.get('transformer.wte.weight')!)).toBeLessThan(1e-4);

    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'objectives-gpt-'));
    try {
      saveGpt2Pretrained(model, out, { heads: [clm] });
      const saved = readSafetensorsHeader(path.join(out, 'model.safetensors')).tensors;
      const expected: { name: string; shape: number[] }[] = gptFixture.saved_safetensors.tensors;
      expect([...saved.keys()].sort()).toEqual(expected.map((t) => t.name).sort());
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
