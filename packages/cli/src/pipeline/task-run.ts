/**
 * Every head's task through one path: rows → examples (with what post-processing needs), metrics
 * from eval-mode predictions, and JSON-able outputs for `predict`.
 */
import { BackbonePlugin, Example, PretrainError, TaskHeadPlugin, TaskKind, TokenizerPlugin } from '@pretrain/core';
import { argmaxRows, bestSpans, qaFeatures, seqevalScores, squadScores, taskMetrics, wordPredictions, type QaFeature } from '@pretrain/heads';
import { Prediction, Trainer, TrainResult, greaterIsBetter, type TrainerOptionsInput } from '@pretrain/trainer';
import { SavedPluginRefs, saveFinalModel } from './checkpoint';
import { encodeTaggedWords } from './tagging';
import type { LabeledText, QaRow, ScoredText, TaggedRow, TaskRowTypes } from './task-data';
import { encodeText, qaWindows } from './task-encode';
import { callbacksFor, type RunEnvironment } from './train';

/** What encoding and post-processing need; saved with the checkpoint so evaluate / predict do the same. */
export interface TaskSettings {
  task: TaskKind;
  /** Class or tag names in id order (classification, tagging). */
  labels?: string[];
  maxLength: number;
  /** QA: context tokens shared by consecutive windows. */
  stride?: number;
  nBest?: number;
  maxAnswerLength?: number;
}

/** Examples for the model and how to read its predictions of them. */
export interface PreparedSet {
  /** Rows (questions, sentences, texts) — QA has more examples (windows) than rows. */
  rows: number;
  examples: Example[];
  /** The task's metrics from predictions of `examples`, in order. */
  metrics(predictions: Prediction[]): Record<string, number>;
  /** One JSON-able prediction per row. */
  outputs(predictions: Prediction[]): Record<string, unknown>[];
}

/** The metric names each task reports (for trainer.metricForBest checks). */
export const TASK_METRICS: Record<TaskKind, string[]> = {
  'sequence-classification': ['accuracy', 'f1', 'matthews'],
  'sequence-regression': ['pearson', 'spearman', 'mse'],
  'token-classification': ['token_accuracy', 'entity_precision', 'entity_recall', 'entity_f1'],
  'question-answering': ['exact_match', 'f1'],
};

/** Whether a larger value of a task metric is better: the trainer's rule; an explicit greaterIsBetter wins. */
export function metricGreaterIsBetter(metric: string, explicit?: boolean): boolean {
  return greaterIsBetter({ metricForBest: metric, greaterIsBetter: explicit });
}

function round(value: number, digits = 4): number {
  return Number(value.toFixed(digits));
}

function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

function labelsOf(settings: TaskSettings): string[] {
  if (!settings.labels) throw new PretrainError(`${settings.task}: no label names (the checkpoint records none; set data.labels)`);
  return settings.labels;
}

function labelId(labels: string[], label: string, where?: string): number {
  const id = labels.indexOf(label);
  if (id < 0) throw new PretrainError(`${where ? `${where}: ` : ''}label "${label}" is not one of ${labels.join(', ')}`, { path: 'data.labels' });
  return id;
}

/** Rows of a task as model input; `withLabels` attaches the training targets (evaluation, training). */
export function prepareRows<K extends TaskKind>(settings: TaskSettings & { task: K }, tokenizer: TokenizerPlugin, rows: TaskRowTypes[K][], withLabels: boolean): PreparedSet {
  switch (settings.task) {
    case 'sequence-classification':
      return prepareClassification(settings, tokenizer, rows as LabeledText[], withLabels);
    case 'sequence-regression':
      return prepareRegression(settings, tokenizer, rows as ScoredText[], withLabels);
    case 'token-classification':
      return prepareTagging(settings, tokenizer, rows as TaggedRow[], withLabels);
    case 'question-answering':
      return prepareQa(settings, tokenizer, rows as QaRow[], withLabels);
  }
  throw new PretrainError(`unknown task "${settings.task}"`);
}

const pairOf = (row: { textPair?: string }) => (row.textPair !== undefined ? { textPair: row.textPair } : {});

function prepareClassification(settings: TaskSettings, tokenizer: TokenizerPlugin, rows: LabeledText[], withLabels: boolean): PreparedSet {
  const labels = labelsOf(settings);
  const examples = rows.map((row) => {
    const example = encodeText(tokenizer, row.text, row.textPair, settings.maxLength);
    if (withLabels) example.labels = { labels: labelId(labels, row.label, row.where) };
    return example;
  });
  return {
    rows: rows.length,
    examples,
    metrics: (predictions) => taskMetrics('sequence-classification', predictions, examples),
    outputs: (predictions) =>
      predictions.map((p, i) => {
        const probabilities = softmax(p.values);
        const best = argmaxRows(p.values, p.values.length)[0];
        return { text: rows[i].text, ...pairOf(rows[i]), label: labels[best] ?? String(best), scores: Object.fromEntries(probabilities.map((q, j) => [labels[j] ?? String(j), round(q)])) };
      }),
  };
}

function prepareRegression(settings: TaskSettings, tokenizer: TokenizerPlugin, rows: ScoredText[], withLabels: boolean): PreparedSet {
  const examples = rows.map((row) => {
    const example = encodeText(tokenizer, row.text, row.textPair, settings.maxLength);
    if (withLabels) example.labels = { labels: row.score };
    return example;
  });
  return {
    rows: rows.length,
    examples,
    metrics: (predictions) => taskMetrics('sequence-regression', predictions, examples),
    outputs: (predictions) => predictions.map((p, i) => ({ text: rows[i].text, ...pairOf(rows[i]), score: p.values[0] })),
  };
}

/**
 * Word-level tagging metrics: each word's tag is the prediction at its first sub-token (HF run_ner);
 * words cut off by maxLength count as predicted "O" (or the first tag). Entity precision/recall/F1
 * (seqeval, IOB2) when the tag set is IOB, token (word) accuracy always.
 */
export function taggingMetrics(references: string[][], predictions: string[][], labels: string[]): Record<string, number> {
  let correct = 0;
  let total = 0;
  references.forEach((tags, s) =>
    tags.forEach((tag, w) => {
      total++;
      if (predictions[s][w] === tag) correct++;
    }),
  );
  const metrics: Record<string, number> = { token_accuracy: total > 0 ? correct / total : NaN };
  if (labels.every((l) => /^(O|[BI]-\S+)$/.test(l))) {
    const s = seqevalScores(references, predictions);
    Object.assign(metrics, { entity_precision: s.precision, entity_recall: s.recall, entity_f1: s.f1 });
  }
  return metrics;
}

function prepareTagging(settings: TaskSettings, tokenizer: TokenizerPlugin, rows: TaggedRow[], withLabels: boolean): PreparedSet {
  const labels = labelsOf(settings);
  const encoded = rows.map((row) => encodeTaggedWords(tokenizer, row.words, withLabels ? row.tags.map((t) => labelId(labels, t, row.where)) : undefined, settings.maxLength));
  const examples = encoded.map((e) => e.example);
  const fallback = Math.max(0, labels.indexOf('O'));
  const wordTags = (predictions: Prediction[]) =>
    predictions.map((p, i) => {
      const numLabels = labels.length;
      const tokenIds = argmaxRows(p.values, numLabels);
      const ids = wordPredictions(encoded[i].wordIds, tokenIds, rows[i].words.length, fallback);
      const scores = new Array<number>(rows[i].words.length).fill(0);
      const seen = new Set<number>();
      encoded[i].wordIds.forEach((word, t) => {
        if (word === null || seen.has(word) || t >= tokenIds.length) return;
        seen.add(word);
        scores[word] = softmax(p.values.subarray(t * numLabels, (t + 1) * numLabels))[tokenIds[t]];
      });
      return { tags: ids.map((id) => labels[id]), scores };
    });
  return {
    rows: rows.length,
    examples,
    metrics: (predictions) =>
      taggingMetrics(
        rows.map((r) => r.tags),
        wordTags(predictions).map((w) => w.tags),
        labels,
      ),
    outputs: (predictions) => wordTags(predictions).map((w, i) => ({ words: rows[i].words, tags: w.tags, scores: w.scores.map((s) => round(s)) })),
  };
}

function prepareQa(settings: TaskSettings, tokenizer: TokenizerPlugin, rows: QaRow[], withLabels: boolean): PreparedSet {
  const stride = settings.stride ?? 0;
  const features: QaFeature[] = [];
  const owner: number[] = [];
  rows.forEach((row, r) => {
    const windows = qaFeatures(qaWindows(tokenizer, row.question, row.context, settings.maxLength, stride), withLabels ? row.answers[0] : undefined);
    for (const feature of windows) {
      features.push(feature);
      owner.push(r);
    }
  });
  const examples = features.map((f) => {
    if (withLabels) return f.example;
    const { labels: _labels, ...rest } = f.example;
    return rest;
  });
  const spans = (predictions: Prediction[]) => {
    const perRow: { startLogits: number[]; endLogits: number[]; contextOffsets: QaFeature['contextOffsets'] }[][] = rows.map(() => []);
    predictions.forEach((p, i) => {
      const length = p.shape[0];
      const startLogits = Array.from({ length }, (_, t) => p.values[t * 2]);
      const endLogits = Array.from({ length }, (_, t) => p.values[t * 2 + 1]);
      perRow[owner[i]].push({ startLogits, endLogits, contextOffsets: features[i].contextOffsets });
    });
    return perRow.map((windows, r) => bestSpans(windows, rows[r].context, { nBest: settings.nBest ?? 20, maxAnswerLength: settings.maxAnswerLength ?? 30 }));
  };
  return {
    rows: rows.length,
    examples,
    metrics: (predictions) => {
      const best = spans(predictions).map((candidates) => candidates[0]?.text ?? '');
      const scores = squadScores(
        best,
        rows.map((r) => r.answers.map((a) => a.text)),
      );
      return { exact_match: scores.exactMatch, f1: scores.f1 };
    },
    outputs: (predictions) =>
      spans(predictions).map((candidates, r) => {
        const top = candidates[0];
        const span = (c: (typeof candidates)[number]) => ({ text: c.text, start: c.start, end: c.end, score: round(c.score), probability: round(c.probability) });
        return { id: rows[r].id, question: rows[r].question, answer: top ? span(top) : null, nBest: candidates.map(span) };
      }),
  };
}

export interface TaskRunInputs {
  backbone: BackbonePlugin;
  head: TaskHeadPlugin;
  tokenizer: TokenizerPlugin;
  train: PreparedSet;
  validation: PreparedSet;
  options: TrainerOptionsInput;
  seed: number;
  finalDir: string;
  refs: SavedPluginRefs;
}

export interface TaskRunResult {
  result: TrainResult;
  /** Loss and the task's metrics on the validation rows after training (empty without validation). */
  validation: Record<string, number>;
  finalDir: string;
}

/**
 * Fine-tunes backbone + head, giving the trainer the validation set (evalEverySteps, early stopping
 * and best/ work as configured), and saves the final model with the run's settings.
 */
export async function runTask(inputs: TaskRunInputs, env: RunEnvironment): Promise<TaskRunResult> {
  const { train, validation } = inputs;
  if (train.examples.length === 0) throw new PretrainError('no training examples (data.train is empty after data.limit / the validation hold-out)');
  const hasValidation = validation.examples.length > 0;
  const trainer = new Trainer({
    backbone: inputs.backbone,
    head: inputs.head,
    tokenizer: inputs.tokenizer,
    options: { saveEachEpoch: false, ...inputs.options },
    seed: inputs.seed,
    computeMetrics: (predictions, examples) => (examples === validation.examples ? validation.metrics(predictions) : {}),
    callbacks: callbacksFor(env),
    progressStream: env.progress,
  });
  const detach = env.stop.onRequest((reason) => trainer.requestStop(`interrupted (${reason})`));
  try {
    const result = await trainer.train({ train: train.examples, validation: hasValidation ? validation.examples : undefined });
    const metrics = hasValidation ? await trainer.evaluate(validation.examples) : {};
    const finalDir = saveFinalModel(inputs.finalDir, trainer, inputs.refs);
    return { result, validation: metrics, finalDir };
  } finally {
    detach();
    trainer.dispose();
  }
}

/** `accuracy 0.8125 · f1 0.8000 · matthews 0.6250` */
export function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(4) : 'n/a'}`)
    .join(' · ');
}
