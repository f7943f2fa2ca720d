import * as tf from '@tensorflow/tfjs-core';
import { PretrainError, initBackend, type TaskHeadPlugin } from '@pretrain/core';
import { crossEntropy } from './losses';
import { QuestionAnsweringHead, questionAnsweringOptions, splitQaLogits } from './question-answering';
import { RegressionHead, regressionOptions, SequenceClassificationHead, sequenceClassificationOptions } from './sequence-classification';
import { TokenClassificationHead, tokenClassificationOptions } from './token-classification';
import { batchWithFields, fakeBackbone, loadHeadFixture, maxAbsDiff, testRng, type HeadFixture } from './test-utils/fixture';
import { pretrainPlugins } from './index';

beforeAll(async () => {
  await initBackend({ log: false });
});

/**
 * Each HF fixture gives the backbone's last hidden state, so the head alone can be checked against
 * HF: logits, loss, and d(loss)/d(head parameters). Full-model parity (with @pretrain/model-bert)
 * lives in tools/integration.
 */
function checkHead(fx: HeadFixture, head: TaskHeadPlugin, prefix: string, fields: any, expectedLogits: tf.Tensor, toLogits: (out: tf.Tensor) => tf.Tensor = (x) => x): void {
  head.init({ backbone: fakeBackbone(fx.json.config), rng: testRng() });
  const report = head.loadStateDict(fx.weights);
  expect(report.missing).toEqual([]);
  const batch = batchWithFields(fx.json, fields);
  const logits = head.forward(fx.backboneOutput, { training: false });
  const comparable = toLogits(logits);
  expect(maxAbsDiff(comparable, expectedLogits)).toBeLessThan(1e-4);
  const loss = head.loss(logits, batch);
  expect(Math.abs(loss.dataSync()[0] - fx.outputs.get('loss')!.dataSync()[0])).toBeLessThan(1e-4);
  const variables = head.variables();
  const { grads, value } = tf.variableGrads(() => head.loss(head.forward(fx.backboneOutput, { training: false }), batch), [...variables.values()]);
  // Internal weights are [in, out]; HF gradients are [out, in].
  const weightGrad = tf.transpose(grads[variables.get(`${prefix}.weight`)!.name]);
  expect(maxAbsDiff(weightGrad, fx.grads.get(`${prefix}.weight`)!)).toBeLessThan(1e-4);
  expect(maxAbsDiff(grads[variables.get(`${prefix}.bias`)!.name], fx.grads.get(`${prefix}.bias`)!)).toBeLessThan(1e-4);
  // stateDict round-trips in HF layout.
  const state = head.stateDict();
  expect(maxAbsDiff(state.get(`${prefix}.weight`)!, fx.weights.get(`${prefix}.weight`)!)).toBe(0);
  tf.dispose([logits, comparable, loss, weightGrad, value, ...Object.values(grads), ...state.values()]);
  head.dispose();
}

describe('heads vs HF fixtures (given HF hidden states)', () => {
  it('sequence classification: logits, cross-entropy loss and classifier gradients (bert-seqcls)', () => {
    const fx = loadHeadFixture('bert-seqcls');
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 3 }));
    checkHead(fx, head, 'classifier', { labels: Int32Array.from(fx.json.labels.labels) }, fx.outputs.get('logits')!);
    fx.dispose();
  });

  it('regression: scores, MSE loss and gradients (bert-regression)', () => {
    const fx = loadHeadFixture('bert-regression');
    const head = new RegressionHead(regressionOptions());
    checkHead(fx, head, 'classifier', { labels: Float32Array.from(fx.json.labels.labels) }, fx.outputs.get('logits')!);
    expect(head.configJSON()).toMatchObject({ problem_type: 'regression', id2label: { '0': 'LABEL_0' } });
    fx.dispose();
  });

  it('token classification: per-token logits, loss ignoring -100 and gradients (bert-tokcls)', () => {
    const fx = loadHeadFixture('bert-tokcls');
    const head = new TokenClassificationHead(tokenClassificationOptions({ numLabels: 5 }));
    checkHead(fx, head, 'classifier', { labels: Int32Array.from(fx.json.labels.labels.flat()) }, fx.outputs.get('logits')!);
    fx.dispose();
  });

  it('question answering: start/end logits, averaged loss and gradients (bert-qa)', () => {
    const fx = loadHeadFixture('bert-qa');
    const head = new QuestionAnsweringHead(questionAnsweringOptions());
    const fields = { start_positions: Int32Array.from(fx.json.labels.start_positions), end_positions: Int32Array.from(fx.json.labels.end_positions) };
    const expected = tf.stack([fx.outputs.get('start_logits')!, fx.outputs.get('end_logits')!], 2);
    checkHead(fx, head, 'qa_outputs', fields, expected);
    // splitQaLogits gives HF's start_logits / end_logits.
    head.init({ backbone: fakeBackbone(fx.json.config), rng: testRng() });
    head.loadStateDict(fx.weights);
    const logits = head.forward(fx.backboneOutput, { training: false }) as tf.Tensor3D;
    const { start, end } = splitQaLogits(logits);
    expect(maxAbsDiff(start, fx.outputs.get('start_logits')!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(end, fx.outputs.get('end_logits')!)).toBeLessThan(1e-4);
    tf.dispose([logits, start, end, expected]);
    head.dispose();
    fx.dispose();
  });
});

describe('head behaviour', () => {
  it('a classification label ≥ numLabels is an error, never an ignored row; QA still ignores clamped positions', () => {
    const logits = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => crossEntropy(logits, Int32Array.from([0, 1, 2]))).toThrow(PretrainError);
    expect(() => crossEntropy(logits, Int32Array.from([0, 1, 2]))).toThrow("label id 2 (row 2 of the batch) is outside the head's 2 labels");
    expect(crossEntropy(logits, Int32Array.from([0, -100, 1])).dataSync()[0]).toBeCloseTo(Math.log(2), 5);
    expect(crossEntropy(logits, Int32Array.from([0, 1, 2]), { ignoreAbove: true }).dataSync()[0]).toBeCloseTo(Math.log(2), 5);
    logits.dispose();
  });

  it('initialises classifier weights N(0, initializer_range) with zero bias, and names them as HF does', () => {
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2 }));
    const backbone = fakeBackbone({ model_type: 'bert', hidden_size: 256, initializer_range: 0.02, hidden_dropout_prob: 0.1, num_hidden_layers: 1 });
    head.init({ backbone, rng: testRng() });
    const state = head.stateDict();
    expect([...state.keys()]).toEqual(['classifier.weight', 'classifier.bias']);
    expect(state.get('classifier.weight')!.shape).toEqual([2, 256]);
    const w = Array.from(state.get('classifier.weight')!.dataSync() as Float32Array);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.004);
    expect(std).toBeGreaterThan(0.017);
    expect(std).toBeLessThan(0.023);
    expect(Array.from(state.get('classifier.bias')!.dataSync())).toEqual([0, 0]);
    expect(head.configJSON()).toMatchObject({ architectures: ['BertForSequenceClassification'], id2label: { '0': 'LABEL_0', '1': 'LABEL_1' } });
    tf.dispose([...state.values()]);
    head.dispose();
  });

  it('marks a classifier HF cannot compute (mean or first-token pooling, GPT-2, no pooler) so that transformers refuses it', () => {
    const bert = { model_type: 'bert', hidden_size: 8, initializer_range: 0.02, hidden_dropout_prob: 0.1, num_hidden_layers: 1 };
    const configOf = (pooling: 'pooler' | 'mean' | 'first', config: Record<string, unknown> = bert) => {
      const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2, pooling }));
      head.init({ backbone: fakeBackbone(config), rng: testRng() });
      const json = head.configJSON();
      head.dispose();
      return json;
    };
    const faithful = configOf('pooler');
    expect(faithful.architectures).toEqual(['BertForSequenceClassification']);
    expect(faithful.model_type).toBeUndefined();
    const mean = configOf('mean');
    expect(mean).toMatchObject({ architectures: ['PretrainBertForSequenceClassificationWithMeanPooling'], model_type: 'pretrain-bert-mean-pooling', pretrain_model_type: 'bert', pretrain_pooling: 'mean' });
    expect(configOf('first')).toMatchObject({ model_type: 'pretrain-bert-first-token-pooling', pretrain_pooling: 'first-token' });
    expect(configOf('pooler', { ...bert, model_type: 'gpt2' })).toMatchObject({ model_type: 'pretrain-gpt2-first-token-pooling', pretrain_model_type: 'gpt2' });
    // A BERT built without pooler: 'pooler' falls back to the first token, and the checkpoint says so.
    const head = new RegressionHead(regressionOptions());
    head.init({ backbone: fakeBackbone(bert), rng: testRng() });
    expect(head.configJSON().architectures).toEqual(['BertForSequenceClassification']);
    head.forward({ sequenceOutput: tf.ones([1, 2, 8]) as tf.Tensor3D }, { training: false }).dispose();
    expect(head.configJSON()).toMatchObject({ model_type: 'pretrain-bert-first-token-pooling', problem_type: 'regression' });
    head.dispose();
  });

  it('applies dropout only in training, reproducibly for a seed', () => {
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2, dropout: 0.5 }));
    head.init({ backbone: fakeBackbone({ model_type: 'bert', hidden_size: 8, initializer_range: 0.5, hidden_dropout_prob: 0.1 }), rng: testRng() });
    const pooledOutput = tf.ones([4, 8]) as tf.Tensor2D;
    const out = { sequenceOutput: tf.ones([4, 3, 8]) as tf.Tensor3D, pooledOutput };
    const evalA = head.forward(out, { training: false }).arraySync();
    const evalB = head.forward(out, { training: false }).arraySync();
    const trainA = head.forward(out, { training: true, dropoutSeed: 5 }).arraySync();
    const trainB = head.forward(out, { training: true, dropoutSeed: 5 }).arraySync();
    expect(evalA).toEqual(evalB);
    expect(trainA).toEqual(trainB);
    expect(trainA).not.toEqual(evalA);
    head.dispose();
  });


  it("pooling 'mean' averages the unpadded tokens only (compared with a host-side average)", () => {
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 3, pooling: 'mean', dropout: 0 }));
    head.init({ backbone: fakeBackbone({ model_type: 'bert', hidden_size: 4, initializer_range: 0.5, hidden_dropout_prob: 0 }), rng: testRng() });
    const states = Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i * 1.7) * 3);
    const mask = [1, 1, 0, 1, 0, 0];
    const sequenceOutput = tf.tensor3d(states, [2, 3, 4]);
    const logits = head.forward({ sequenceOutput }, { training: false, attentionMask: tf.tensor2d(mask, [2, 3], 'int32') }).arraySync() as number[][];
    const weight = head.stateDict().get('classifier.weight')!.arraySync() as number[][];
    for (let b = 0; b < 2; b++) {
      const kept = [0, 1, 2].filter((t) => mask[b * 3 + t] === 1);
      const average = [0, 1, 2, 3].map((h) => kept.reduce((sum, t) => sum + states[(b * 3 + t) * 4 + h], 0) / kept.length);
      const expected = weight.map((row) => row.reduce((sum, w, h) => sum + w * average[h], 0));
      expected.forEach((value, label) => expect(logits[b][label]).toBeCloseTo(value, 5));
    }
    const unmasked = head.forward({ sequenceOutput }, { training: false }).arraySync() as number[][];
    expect(unmasked[1]).not.toEqual(logits[1]);
    head.dispose();
  });
  it("pooling 'last' classifies the last unpadded token through a bias-free `score` layer (HF GPT2ForSequenceClassification)", () => {
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 3, pooling: 'last', dropout: 0 }));
    head.init({ backbone: fakeBackbone({ model_type: 'gpt2', hidden_size: 4, initializer_range: 0.5, hidden_dropout_prob: 0 }), rng: testRng() });
    const state = head.stateDict();
    expect([...state.keys()]).toEqual(['score.weight']);
    expect(state.get('score.weight')!.shape).toEqual([3, 4]);
    const states = Array.from({ length: 3 * 3 * 4 }, (_, i) => Math.cos(i * 0.9) * 2);
    const mask = [1, 1, 0, 1, 0, 0, 1, 1, 1];
    const sequenceOutput = tf.tensor3d(states, [3, 3, 4]);
    const logits = head.forward({ sequenceOutput }, { training: false, attentionMask: tf.tensor2d(mask, [3, 3], 'int32') }).arraySync() as number[][];
    const weight = state.get('score.weight')!.arraySync() as number[][];
    [1, 0, 2].forEach((last, b) => {
      const token = [0, 1, 2, 3].map((h) => states[(b * 3 + last) * 4 + h]);
      weight.map((row) => row.reduce((sum, w, h) => sum + w * token[h], 0)).forEach((value, label) => expect(logits[b][label]).toBeCloseTo(value, 5));
    });
    expect(head.configJSON()).toMatchObject({ architectures: ['GPT2ForSequenceClassification'], id2label: { '0': 'LABEL_0' } });
    expect(head.configJSON().model_type).toBeUndefined();
    tf.dispose([...state.values(), sequenceOutput]);
    head.dispose();
    // Without a pooling option the backbone decides as HF does: the last token on a causal model, the pooler on BERT.
    for (const [config, layer] of [[{ model_type: 'gpt2', hidden_size: 4, initializer_range: 0.02, hidden_dropout_prob: 0 }, 'score.weight'], [{ model_type: 'bert', hidden_size: 4, initializer_range: 0.02, hidden_dropout_prob: 0 }, 'classifier.bias']] as const) {
      for (const byDefault of [new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2 })), new RegressionHead(regressionOptions())]) {
        byDefault.init({ backbone: fakeBackbone(config), rng: testRng() });
        expect([...byDefault.variables().keys()]).toContain(layer);
        expect(byDefault.configJSON().architectures).toEqual([config.model_type === 'gpt2' ? 'GPT2ForSequenceClassification' : 'BertForSequenceClassification']);
        byDefault.dispose();
      }
    }
    const onBert = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2, pooling: 'last' }));
    onBert.init({ backbone: fakeBackbone({ model_type: 'bert', hidden_size: 4, initializer_range: 0.02, hidden_dropout_prob: 0 }), rng: testRng() });
    expect(onBert.configJSON()).toMatchObject({ model_type: 'pretrain-bert-last-token-pooling', pretrain_pooling: 'last-token' });
    onBert.dispose();
  });

  it('rejects a checkpoint with a different number of labels, naming the tensor', () => {
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2 }));
    head.init({ backbone: fakeBackbone({ model_type: 'bert', hidden_size: 4, initializer_range: 0.02, hidden_dropout_prob: 0 }), rng: testRng() });
    const wrong = new Map([['classifier.weight', tf.zeros([3, 4])]]);
    expect(() => head.loadStateDict(wrong)).toThrow(/classifier\.weight: checkpoint has shape \[3,4\], the head expects \[2,4\]/);
    head.dispose();
  });

  it('says which label field is missing', () => {
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2 }));
    head.init({ backbone: fakeBackbone({ model_type: 'bert', hidden_size: 4, initializer_range: 0.02, hidden_dropout_prob: 0 }), rng: testRng() });
    const logits = tf.zeros([1, 2]);
    const batch = batchWithFields({ inputs: { input_ids: [[1]], attention_mask: [[1]], token_type_ids: [[0]] } }, { other: new Int32Array(1) });
    expect(() => head.loss(logits, batch)).toThrow(/no "labels" labels \(fields present: other\)/);
    head.dispose();
  });

  it('throws PretrainErrors that carry the config path at fault', () => {
    const pathOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(PretrainError);
        return (error as PretrainError).details.path;
      }
      throw new Error('expected a throw');
    };
    const backbone = fakeBackbone({ model_type: 'bert', hidden_size: 4, initializer_range: 0.02, hidden_dropout_prob: 0 });
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2 }));
    head.init({ backbone, rng: testRng() });
    const batch = batchWithFields({ inputs: { input_ids: [[1]], attention_mask: [[1]], token_type_ids: [[0]] } }, { other: new Int32Array(1) });
    expect(pathOf(() => head.loss(tf.zeros([1, 2]), batch))).toBe('head.options.labelField');
    expect(pathOf(() => head.loadStateDict(new Map([['classifier.weight', tf.zeros([3, 4])]])))).toBe('head.options.numLabels');
    expect(pathOf(() => crossEntropy(tf.zeros([1, 2]) as tf.Tensor2D, Int32Array.from([5])))).toBe('head.options.numLabels');
    expect(pathOf(() => head.init({ backbone, rng: testRng() }))).toBe('head');
    head.dispose();
    const qa = new QuestionAnsweringHead(questionAnsweringOptions({}));
    qa.init({ backbone, rng: testRng() });
    expect(pathOf(() => qa.loss(tf.zeros([1, 1, 2]), batch))).toBe('head.options.startField');
    qa.dispose();
  });

  it('exports the four heads as plugins with validated options', () => {
    expect(pretrainPlugins.map((p) => `${p.kind}:${p.name}`)).toEqual(['head:sequence-classification', 'head:regression', 'head:token-classification', 'head:question-answering']);
    const tokcls = pretrainPlugins.find((p) => p.name === 'token-classification')!;
    expect(tokcls.options.safeParse({ numLabels: 3, labels: ['O', 'B-X'] }).success).toBe(false);
    expect(tokcls.options.safeParse({ numLabels: 3, labels: ['O', 'B-X', 'I-X'] }).success).toBe(true);
  });

  it('a token-classification head takes its size from the tag names when numLabels is not given', () => {
    const head = new TokenClassificationHead(tokenClassificationOptions({ labels: ['O', 'B-X', 'I-X'] }));
    expect(head.numLabels).toBe(3);
    expect(head.labelNames()).toEqual(['O', 'B-X', 'I-X']);
    expect(() => new TokenClassificationHead(tokenClassificationOptions({}))).toThrow(/give head\.options\.numLabels or head\.options\.labels/);
  });
});
