import { PretrainError } from '@pretrain/core/lite';

/** Classification metrics over host arrays of integer labels (sklearn semantics). */
type Labels = ArrayLike<number>;

function checkLengths(predictions: Labels, references: Labels, metric: string): void {
  if (predictions.length !== references.length) {
    throw new PretrainError(`${metric}: ${predictions.length} predictions but ${references.length} references`);
  }
  if (predictions.length === 0) throw new PretrainError(`${metric}: no examples`);
}

export function accuracy(predictions: Labels, references: Labels): number {
  checkLengths(predictions, references, 'accuracy');
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === references[i]) correct++;
  return correct / predictions.length;
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

function countsFor(predictions: Labels, references: Labels, label: number): Counts {
  const counts = { tp: 0, fp: 0, fn: 0 };
  for (let i = 0; i < predictions.length; i++) {
    const predicted = predictions[i] === label;
    const actual = references[i] === label;
    if (predicted && actual) counts.tp++;
    else if (predicted) counts.fp++;
    else if (actual) counts.fn++;
  }
  return counts;
}

/** F1 from counts; 0 when undefined (sklearn's zero_division=0 behaviour). */
export function f1FromCounts({ tp, fp, fn }: Counts): number {
  const denominator = 2 * tp + fp + fn;
  return denominator === 0 ? 0 : (2 * tp) / denominator;
}

/** Binary F1 of the positive class (default label 1). */
export function f1Binary(predictions: Labels, references: Labels, positiveLabel = 1): number {
  checkLengths(predictions, references, 'f1');
  return f1FromCounts(countsFor(predictions, references, positiveLabel));
}

/** Unweighted mean of per-class F1 over the labels present in predictions or references. */
export function f1Macro(predictions: Labels, references: Labels): number {
  checkLengths(predictions, references, 'f1 (macro)');
  const labels = new Set<number>([...Array.from(predictions), ...Array.from(references)]);
  let sum = 0;
  for (const label of labels) sum += f1FromCounts(countsFor(predictions, references, label));
  return sum / labels.size;
}

/** Matthews correlation coefficient, multiclass form (sklearn matthews_corrcoef); 0 when undefined. */
export function matthewsCorrelation(predictions: Labels, references: Labels): number {
  checkLengths(predictions, references, 'matthews correlation');
  const n = predictions.length;
  const predictedCount = new Map<number, number>();
  const trueCount = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    predictedCount.set(predictions[i], (predictedCount.get(predictions[i]) ?? 0) + 1);
    trueCount.set(references[i], (trueCount.get(references[i]) ?? 0) + 1);
    if (predictions[i] === references[i]) correct++;
  }
  let pk = 0;
  let pp = 0;
  let tt = 0;
  for (const label of new Set([...predictedCount.keys(), ...trueCount.keys()])) {
    const p = predictedCount.get(label) ?? 0;
    const t = trueCount.get(label) ?? 0;
    pk += p * t;
    pp += p * p;
    tt += t * t;
  }
  const denominator = Math.sqrt((n * n - pp) * (n * n - tt));
  return denominator === 0 ? 0 : (correct * n - pk) / denominator;
}

/** Index of the largest value in each row of a row-major [rows, cols] array. */
export function argmaxRows(values: ArrayLike<number>, cols: number): Int32Array {
  const rows = values.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}
