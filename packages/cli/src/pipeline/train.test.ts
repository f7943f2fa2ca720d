import { initBackend } from '@pretrain/core';
import { PieceTokenizer, readSample, TinyBackbone } from '@pretrain/core/testing';
import { SequenceClassificationHead, sequenceClassificationOptions } from '@pretrain/heads';
import { Trainer } from '@pretrain/trainer';
import { StopSignal } from '../interrupt';
import { labeledExamples } from './batches';
import type { LabeledText } from './task-data';
import { StatedScore } from '@pretrain/objective-stated-score';
import { predictLabels, runFinetuning, runPretraining } from './train';
import * as os from 'os';
import * as fs from 'fs';
import * as path from 'path';

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('runFinetuning with keepValidationCorrect', () => {
  it('marks exactly the validation examples that the fine-tuned model classifies right', async () => {
    const sample = readSample();
    const tokenizer = new PieceTokenizer(sample);
    const sentences = sample.split(/(?<=[.!?])\s+/).filter((s) => s.length > 20);
    // A label the model can partly learn in a few steps: does the sentence mention "I"?
    const rows: LabeledText[] = sentences.slice(0, 90).map((text) => ({ text, label: /\bI\b/.test(text) ? '1' : '0' }));
    const splits = { train: rows.slice(0, 60), validation: rows.slice(60), labels: ['0', '1'] };
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), seed: 3 });
    const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2, labels: splits.labels }));
    const env = { stop: new StopSignal(), log: () => undefined };
    const run = await runFinetuning({ backbone, head, tokenizer, splits, options: { maxSteps: 6, batchSize: 8, maxLength: 32, progress: 'none', learningRate: 1e-2 }, seed: 5, keepValidationCorrect: true }, env);

    const correct = run.validation.correct!;
    expect(correct).toHaveLength(30);
    expect(correct.reduce((a, b) => a + b, 0) / correct.length).toBeCloseTo(run.validation.accuracy, 10);
    // Independently: predict with the same fine-tuned weights and compare with the labels.
    const examples = labeledExamples(tokenizer, splits.validation, splits.labels, 32);
    const trainer = new Trainer({ backbone, head, tokenizer, options: { progress: 'none', maxLength: 32 }, seed: 5, initialize: false });
    const { predictions } = await predictLabels(trainer, examples);
    expect(Array.from(correct)).toEqual(examples.map((e, i) => (predictions[i] === e.labels?.labels ? 1 : 0)));
    expect(new Set(correct).size).toBe(2);
    trainer.dispose();
    backbone.dispose();
    head.dispose();
  });
});

describe('runPretraining held-out documents', () => {
  it('reads on past evalDocuments while the held-out documents give the objective too few examples (stated-score: reviews without a score)', async () => {
    // 60 held-out reviews; every tenth from the 8th on states a score, so the first 5 give stated-score no example.
    const review = (i: number) => ({ id: `r${i}`, sentences: [`the film was ${i % 20 === 7 ? 'great' : 'awful'} and the acting too .`, i % 10 === 7 ? `i give it ${i % 20 === 7 ? 8 : 2}/10 .` : 'the end .'] });
    const validation = Array.from({ length: 60 }, (_, i) => review(i));
    const corpus = {
      documents: ({ split }: { split?: 'train' | 'validation' } = {}) => {
        const items = split === 'validation' ? validation : Array.from({ length: 40 }, (_, i) => review(i));
        return Object.assign((async function* () { yield* items; })(), { getState: () => ({}), setState: () => undefined });
      },
    };
    const tokenizer = new PieceTokenizer(validation.flatMap((d) => d.sentences).join(' '));
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), seed: 2 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-heldout-'));
    const logs: string[] = [];
    const run = await runPretraining(
      { backbone, objectives: [{ plugin: new StatedScore(), weight: 1 }], tokenizer, corpus, options: { maxSteps: 1, batchSize: 2, maxLength: 16, progress: 'none', outputDir: dir, saveEachEpoch: false }, seed: 1, finalDir: path.join(dir, 'final'), refs: { model: { name: 'tiny', options: {} } }, evalDocuments: 5 },
      { stop: new StopSignal(), log: (line) => logs.push(line) },
    );
    expect(run.evalBefore?.loss).toBeGreaterThan(0);
    expect(Number.isFinite(run.evalAfter?.loss)).toBe(true);
    backbone.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
