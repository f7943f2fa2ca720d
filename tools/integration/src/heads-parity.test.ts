// Task heads on the real BERT against HF BertFor{SequenceClassification, TokenClassification,
// QuestionAnswering} (fixtures/hf/bert-*): logits, loss, every gradient, and one full Trainer step
// (forward, backward, AdamW) against HF's after_adamw.safetensors.
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, initBackend, loadSafetensorsAsTensors, Rng, type Batch, type Example, type TaskHeadPlugin } from '@pretrain/core';
import { fixtureHostBatch, maxAbsDiff } from '@pretrain/core/testing';
import { loadBertPretrained, type BertModel } from '@pretrain/model-bert';
import { QuestionAnsweringHead, questionAnsweringOptions, RegressionHead, regressionOptions, SequenceClassificationHead, sequenceClassificationOptions, TokenClassificationHead, tokenClassificationOptions } from '@pretrain/heads';
import { loadModel, Trainer } from '@pretrain/trainer';

const HF = path.join(__dirname, '../../../fixtures/hf');

beforeAll(() => initBackend({ log: false }));

interface Case {
  fixture: string;
  pooler: boolean;
  makeHead: () => TaskHeadPlugin;
  /** The head's outputs in HF's layout, to compare with outputs.safetensors. */
  expected: (outputs: Map<string, tf.Tensor>) => tf.Tensor;
  labels: (json: any) => { perExample?: Record<string, number[]>; perToken?: Record<string, number[][]> };
}

const cases: Case[] = [
  {
    fixture: 'bert-seqcls',
    pooler: true,
    makeHead: () => new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 3 })),
    expected: (o) => o.get('logits')!,
    labels: (j) => ({ perExample: { labels: j.labels.labels } }),
  },
  {
    fixture: 'bert-regression',
    pooler: true,
    makeHead: () => new RegressionHead(regressionOptions()),
    expected: (o) => o.get('logits')!,
    labels: (j) => ({ perExample: { labels: j.labels.labels } }),
  },
  {
    fixture: 'bert-tokcls',
    pooler: false,
    makeHead: () => new TokenClassificationHead(tokenClassificationOptions({ numLabels: 5 })),
    expected: (o) => o.get('logits')!,
    labels: (j) => ({ perToken: { labels: j.labels.labels } }),
  },
  {
    fixture: 'bert-qa',
    pooler: false,
    makeHead: () => new QuestionAnsweringHead(questionAnsweringOptions()),
    expected: (o) => tf.stack([o.get('start_logits')!, o.get('end_logits')!], 2),
    labels: (j) => ({ perExample: { start_positions: j.labels.start_positions, end_positions: j.labels.end_positions } }),
  },
];

function fixtureBatch(json: any, labels: ReturnType<Case['labels']>): Batch {
  const fields: Batch['fields'] = {};
  for (const [name, values] of Object.entries(labels.perExample ?? {})) fields[name] = Number.isInteger(values[0]) && !json.config.problem_type?.includes('regression') ? Int32Array.from(values) : Float32Array.from(values);
  for (const [name, values] of Object.entries(labels.perToken ?? {})) fields[name] = Int32Array.from(values.flat());
  return fixtureHostBatch(json.inputs, fields);
}

/** Examples equal to the fixture batch (padding trimmed by the attention mask) for the Trainer. */
function fixtureExamples(json: any, labels: ReturnType<Case['labels']>): Example[] {
  return (json.inputs.input_ids as number[][]).map((ids, r) => {
    const length = (json.inputs.attention_mask[r] as number[]).reduce((a, b) => a + b, 0);
    const example: Example = { inputIds: Int32Array.from(ids.slice(0, length)), tokenTypeIds: Int32Array.from(json.inputs.token_type_ids[r].slice(0, length)) };
    if (labels.perExample) example.labels = Object.fromEntries(Object.entries(labels.perExample).map(([k, v]) => [k, v[r]]));
    if (labels.perToken) example.tokenLabels = Object.fromEntries(Object.entries(labels.perToken).map(([k, v]) => [k, Int32Array.from(v[r].slice(0, length))]));
    return example;
  });
}

/**
 * HF's nn.Embedding(padding_idx=0) never sends a lookup gradient to the pad row; model-bert matches that.
 * Row 0 is compared on its own below so a regression there is named precisely.
 */
const PAD_ROW_NAME = 'bert.embeddings.word_embeddings.weight';
function comparable(name: string, t: tf.Tensor): tf.Tensor {
  return name === PAD_ROW_NAME ? tf.slice(t, [1, 0], [t.shape[0] - 1, t.shape[1]!]) : t;
}
function diffIgnoringPadRow(name: string, a: tf.Tensor, b: tf.Tensor): number {
  const [x, y] = [comparable(name, a), comparable(name, b)];
  const diff = maxAbsDiff(x, y);
  if (x !== a) x.dispose();
  if (y !== b) y.dispose();
  return diff;
}

/** Internal [in, out] Linear weights vs HF's [out, in]. */
const isLinearWeight = (name: string) => /(query|key|value|dense|classifier|qa_outputs)\.weight$/.test(name);

function load(c: Case, dropout: boolean): { model: BertModel; head: TaskHeadPlugin; json: any } {
  const dir = path.join(HF, c.fixture, 'model');
  const json = require(path.join(HF, c.fixture, 'fixture.json'));
  const model = loadBertPretrained(dir, { addPoolingLayer: c.pooler, configOverrides: dropout ? {} : { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } });
  const head = c.makeHead();
  head.init({ backbone: model, rng: new Rng(0) });
  // The trainer's loader: backbone names carry `bert.`, head names are full HF names.
  const report = loadModel(dir, { backbone: model, heads: [head], configJSON: () => ({}) });
  expect(report).toEqual({ missing: [], unexpected: [] });
  return { model, head, json };
}

describe.each(cases)('$fixture: BERT + head vs HF', (c) => {
  test('logits and loss within 1e-4; gradients of every parameter within 1e-4', () => {
    const { model, head, json } = load(c, true);
    const outputs = loadSafetensorsAsTensors(path.join(HF, c.fixture, 'outputs.safetensors'));
    const hfGrads = loadSafetensorsAsTensors(path.join(HF, c.fixture, 'grads.safetensors'));
    const batch = fixtureBatch(json, c.labels(json));
    const tensors = batchToTensors(batch);
    const expected = c.expected(outputs);
    const logits = tf.tidy(() => head.forward(model.forward(tensors, { training: false }), { training: false }));
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-4);
    const loss = head.loss(logits, tensors);
    expect(Math.abs(loss.dataSync()[0] - json.outputs.loss)).toBeLessThan(1e-4);

    const named = new Map<string, tf.Variable>([...[...model.variables()].map(([n, v]) => [`bert.${n}`, v] as const), ...head.variables()]);
    const { value, grads } = tf.variableGrads(() => head.loss(head.forward(model.forward(tensors, { training: false }), { training: false }), tensors), [...named.values()]);
    expect(Math.abs(value.dataSync()[0] - json.outputs.loss)).toBeLessThan(1e-4);
    let worst = 0;
    let worstName = '';
    for (const [name, variable] of named) {
      const want = hfGrads.get(name);
      expect(want).toBeDefined();
      const got = grads[variable.name];
      const hfLayout = isLinearWeight(name) ? tf.transpose(got) : got;
      const diff = diffIgnoringPadRow(name, hfLayout, want!);
      if (diff > worst) [worst, worstName] = [diff, name];
      if (hfLayout !== got) hfLayout.dispose();
    }
    expect({ worstName, ok: worst < 1e-4 }).toEqual({ worstName, ok: true });
    expect(named.size).toBe(hfGrads.size);
    tf.dispose([logits, loss, value, ...Object.values(grads), ...outputs.values(), ...hfGrads.values(), expected]);
    head.dispose();
    model.dispose();
  });

  test('one Trainer step (dropout off, AdamW lr 1e-3, wd 0.01 on all parameters) reproduces after_adamw.safetensors', async () => {
    const { model, head, json } = load(c, false);
    const examples = fixtureExamples(json, c.labels(json));
    const trainer = new Trainer({
      backbone: model,
      head,
      initialize: false,
      seed: 1,
      options: { batchSize: 2, maxSteps: 1, learningRate: 1e-3, weightDecay: 0.01, noDecay: [], schedule: 'constant', maxGradNorm: null, progress: 'none' },
    });
    const result = await trainer.train({ train: examples });
    expect(Math.abs(result.losses[0] - json.train_step.loss_before)).toBeLessThan(1e-4);
    const after = loadSafetensorsAsTensors(path.join(HF, c.fixture, 'after_adamw.safetensors'));
    const state = new Map([...[...model.stateDict()].map(([n, t]) => [`bert.${n}`, t] as const), ...head.stateDict()]);
    const hfGrads = loadSafetensorsAsTensors(path.join(HF, c.fixture, 'grads.safetensors'));
    let worst = 0;
    let worstName = '';
    let compared = 0;
    for (const [name, want] of after) {
      // Elements whose true gradient is zero (softmax shift invariance: attention key biases, the QA
      // bias and what feeds it only through that direction) hold ~1e-9 float noise on both sides,
      // which Adam's first step normalises to ±lr. Those elements are left out.
      const [diff, count] = tf.tidy(() => {
        const [ours, theirs] = [comparable(name, state.get(name)!), comparable(name, want)];
        const magnitude = tf.abs(comparable(name, hfGrads.get(name)!));
        // Embedding rows that no token looked up have an exact zero gradient on both sides: compare them too.
        const unusedRow = /_embeddings\.weight$/.test(name) ? tf.equal(magnitude, tf.scalar(0)) : tf.cast(tf.zerosLike(magnitude), 'bool');
        const real = tf.logicalOr(tf.greater(magnitude, tf.scalar(1e-6)), unusedRow);
        const d = tf.where(real, tf.abs(tf.sub(ours, theirs)), tf.zerosLike(theirs));
        return [tf.max(d).dataSync()[0], tf.sum(tf.cast(real, 'int32')).dataSync()[0]];
      });
      compared += count;
      if (diff > worst) [worst, worstName] = [diff, name];
    }
    expect(compared).toBeGreaterThan(0.98 * [...after.values()].reduce((a, t) => a + t.size, 0));
    expect({ worstName, ok: worst < 1e-4 }).toEqual({ worstName, ok: true });
    tf.dispose([...after.values(), ...state.values(), ...hfGrads.values()]);
    trainer.dispose();
    head.dispose();
    model.dispose();
  });
});

describe('pad row', () => {
  test('bert-qa: the pad row (id 0) gets no embedding-lookup gradient, as in HF (nn.Embedding padding_idx)', () => {
    const c = cases.find((x) => x.fixture === 'bert-qa')!;
    const { model, head, json } = load(c, true);
    const hfGrads = loadSafetensorsAsTensors(path.join(HF, c.fixture, 'grads.safetensors'));
    const tensors = batchToTensors(fixtureBatch(json, c.labels(json)));
    const embeddings = model.variables().get('embeddings.word_embeddings.weight')!;
    const { value, grads } = tf.variableGrads(() => head.loss(head.forward(model.forward(tensors, { training: false }), { training: false }), tensors), [embeddings]);
    const ours = tf.slice(grads[embeddings.name], [0, 0], [1, -1]);
    const theirs = tf.slice(hfGrads.get(PAD_ROW_NAME)!, [0, 0], [1, -1]);
    const diff = maxAbsDiff(ours, theirs);
    tf.dispose([value, ours, theirs, ...Object.values(grads), ...hfGrads.values()]);
    head.dispose();
    model.dispose();
    expect(diff).toBeLessThan(1e-4);
  });
});
