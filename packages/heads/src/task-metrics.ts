import { headPath, PretrainError, type Example, type TaskKind } from '@pretrain/core';
import { accuracy, argmaxRows, f1Binary, f1Macro, matthewsCorrelation } from './metrics/classification';
import { pearson, spearman } from './metrics/correlation';
import { seqevalScores } from './metrics/seqeval';

/** One example's eval-mode output (the trainer's Prediction): values row-major in `shape`. */
export interface HeadPrediction {
  values: Float32Array;
  shape: number[];
}

export interface TaskMetricsOptions {
  /** Label field name in the examples (default "labels"). */
  labelField?: string;
  /** Token classification: tag names by id; enables entity-level (seqeval) precision/recall/F1. */
  labelNames?: string[];
}

/**
 * The standard metrics for a task, from predictions and the labeled examples they came from:
 * classification accuracy / F1 (binary for 2 labels, else macro) / Matthews; regression Pearson /
 * Spearman / MSE; token classification token accuracy and entity F1; QA start/end/span accuracy
 * (answer-text EM/F1 needs the contexts: use bestSpans + squadScores).
 * Plug into the trainer as `computeMetrics: (p, e) => taskMetrics(head.task, p, e, options)`.
 */
export function taskMetrics(task: TaskKind, predictions: HeadPrediction[], examples: Example[], options: TaskMetricsOptions = {}): Record<string, number> {
  if (predictions.length !== examples.length) throw new PretrainError(`taskMetrics: ${predictions.length} predictions for ${examples.length} examples`);
  const field = options.labelField ?? 'labels';
  switch (task) {
    case 'sequence-classification': {
      const numLabels = predictions[0].shape[0];
      const predicted = Array.from(predictions, (p) => argmaxRows(p.values, numLabels)[0]);
      const labels = examples.map((e, i) => exampleLabel(e, field, i));
      return {
        accuracy: accuracy(predicted, labels),
        f1: numLabels === 2 ? f1Binary(predicted, labels) : f1Macro(predicted, labels),
        matthews: matthewsCorrelation(predicted, labels),
      };
    }
    case 'sequence-regression': {
      const scores = predictions.map((p) => p.values[0]);
      const targets = examples.map((e, i) => exampleLabel(e, field, i));
      const mse = scores.reduce((a, s, i) => a + (s - targets[i]) ** 2, 0) / scores.length;
      return { pearson: pearson(scores, targets), spearman: spearman(scores, targets), mse };
    }
    case 'token-classification':
      return tokenMetrics(predictions, examples, field, options.labelNames);
    case 'question-answering': {
      let start = 0;
      let end = 0;
      let both = 0;
      predictions.forEach((p, i) => {
        const starts = Array.from({ length: p.shape[0] }, (_, t) => p.values[t * 2]);
        const ends = Array.from({ length: p.shape[0] }, (_, t) => p.values[t * 2 + 1]);
        const s = argmaxRows(starts, starts.length)[0] === exampleLabel(examples[i], 'start_positions', i);
        const e = argmaxRows(ends, ends.length)[0] === exampleLabel(examples[i], 'end_positions', i);
        start += Number(s);
        end += Number(e);
        both += Number(s && e);
      });
      const n = predictions.length;
      return { start_accuracy: start / n, end_accuracy: end / n, span_accuracy: both / n };
    }
  }
}

function exampleLabel(example: Example, field: string, index: number): number {
  const value = example.labels?.[field];
  if (value === undefined) throw new PretrainError(`taskMetrics: example ${index} has no "${field}" label`, { path: headPath('labelField') });
  return value;
}

function tokenMetrics(predictions: HeadPrediction[], examples: Example[], field: string, labelNames?: string[]): Record<string, number> {
  let correct = 0;
  let total = 0;
  const refTags: string[][] = [];
  const predTags: string[][] = [];
  predictions.forEach((p, i) => {
    const labels = examples[i].tokenLabels?.[field];
    if (!labels) throw new PretrainError(`taskMetrics: example ${i} has no "${field}" token labels`, { path: headPath('labelField') });
    const numLabels = p.shape[1];
    const predicted = argmaxRows(p.values, numLabels);
    const refs: string[] = [];
    const preds: string[] = [];
    for (let t = 0; t < Math.min(labels.length, predicted.length); t++) {
      if (labels[t] < 0) continue;
      total++;
      if (predicted[t] === labels[t]) correct++;
      if (labelNames) {
        refs.push(labelNames[labels[t]]);
        preds.push(labelNames[predicted[t]]);
      }
    }
    refTags.push(refs);
    predTags.push(preds);
  });
  const metrics: Record<string, number> = { token_accuracy: total ? correct / total : 0 };
  if (labelNames) {
    const s = seqevalScores(refTags, predTags);
    Object.assign(metrics, { entity_precision: s.precision, entity_recall: s.recall, entity_f1: s.f1 });
  }
  return metrics;
}
