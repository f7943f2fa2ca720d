// The Trainer with the real BERT and a real head: exact resume with dropout on, and checkpoints
// that model-bert's HF loader reads back (BertForSequenceClassification layout).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng, type Example } from '@pretrain/core';
import { loadBertPretrained } from '@pretrain/model-bert';
import { SequenceClassificationHead, sequenceClassificationOptions, taskMetrics } from '@pretrain/heads';
import { Trainer, type TrainerOptionsInput } from '@pretrain/trainer';

const MODEL = path.join(__dirname, '../../../fixtures/hf/bert-seqcls/model');

beforeAll(() => initBackend({ log: false }));

function examples(count: number, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const length = 4 + rng.int(8);
    const inputIds = Int32Array.from({ length }, () => 1 + rng.int(999));
    return { inputIds, labels: { labels: inputIds[1] % 3 } };
  });
}

const train = examples(24, 1);
const validation = examples(8, 2);

async function run(options: TrainerOptionsInput, stopAt?: number) {
  const model = loadBertPretrained(MODEL);
  const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 3 }));
  const losses: number[] = [];
  const trainer: Trainer = new Trainer({
    backbone: model,
    head,
    seed: 3,
    options: { progress: 'none', batchSize: 4, gradientAccumulationSteps: 2, maxSteps: 8, learningRate: 1e-3, warmupSteps: 2, saveEachEpoch: false, ...options },
    computeMetrics: (p, e) => taskMetrics('sequence-classification', p, e),
    callbacks: [{ onStep: (e) => void (losses.push(e.loss), e.step === stopAt && trainer.requestStop()) }],
  });
  const result = await trainer.train({ train, validation });
  const params = new Map([...trainer.namedParameters()].map(([n, v]) => [n, v.dataSync() as Float32Array]));
  trainer.dispose();
  head.dispose();
  model.dispose();
  return { losses, params, result };
}

test('BERT + sequence classification: 8 steps == 4 + resume + 4 (dropout on; losses within 1e-6, same parameters)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-trainer-bert-'));
  const full = await run({ outputDir: path.join(tmp, 'full') });
  const dir = path.join(tmp, 'split');
  const first = await run({ outputDir: dir }, 4);
  const second = await run({ outputDir: dir, resume: true });
  expect(first.losses).toHaveLength(4);
  const resumed = [...first.losses, ...second.losses];
  expect(resumed).toHaveLength(8);
  resumed.forEach((l, i) => expect(Math.abs(l - full.losses[i])).toBeLessThanOrEqual(1e-6));
  let worst = 0;
  for (const [name, values] of full.params) {
    const other = second.params.get(name)!;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - other[i]));
  }
  expect(worst).toBeLessThanOrEqual(1e-6);
  expect(full.result.lastEval).toMatchObject({ accuracy: expect.any(Number), f1: expect.any(Number), matthews: expect.any(Number) });

  // The checkpoint is an HF BertForSequenceClassification directory.
  const ckpt = path.join(tmp, 'full', 'checkpoint-8');
  const config = JSON.parse(fs.readFileSync(path.join(ckpt, 'config.json'), 'utf8'));
  expect(config).toMatchObject({ model_type: 'bert', architectures: ['BertForSequenceClassification'], problem_type: 'single_label_classification' });
  const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 3 }));
  const probe = loadBertPretrained(MODEL);
  head.init({ backbone: probe, rng: new Rng(0) });
  const reloaded = loadBertPretrained(ckpt, { heads: [head] });
  expect(reloaded.loadReport).toEqual({ missing: [], unexpected: [] });
  const state = head.stateDict();
  const trained = full.params.get('classifier.weight')!;
  // Internal [in, out] vs HF [out, in]: compare through the transpose.
  const hf = tf.transpose(state.get('classifier.weight')!);
  expect(Array.from(hf.dataSync() as Float32Array)).toEqual(Array.from(trained));
  tf.dispose([hf, ...state.values()]);
  head.dispose();
  probe.dispose();
  reloaded.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});
