/**
 * Fused softmax cross-entropy for classifier and language-model heads. Composed from TF.js ops it
 * takes ~10 passes over the [rows, classes] logits forward and as many backward (max, shift, exp,
 * sum, log, one-hot, multiply, …, plus the Equal mask of max's gradient). Here it is one kernel
 * forward (per-row softmax, loss and argmax hit) and one backward (softmax − one-hot, no exponentials), on the
 * wasm heap or the cpu backend's arrays. Other backends get the same math from TF.js ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PretrainError } from './errors';
import { ioFor } from './kernels/io';
import { backendHasKernel, LINEAR_CROSS_ENTROPY } from './kernels/optional';

/** Labels below 0 (HF's -100) are ignored: no loss, no gradient, not counted in the mean; labels ≥ classes are an error. */
export const IGNORE_LABEL = -100;

export interface SoftmaxCrossEntropyResult {
  /** Mean over rows whose label is not ignored (0 when every row is ignored). */
  loss: tf.Scalar;
  /** Fraction of counted rows whose argmax equals the label (not differentiable). */
  accuracy: tf.Scalar;
}

/** Kernel names (a kernel pack may replace them): {logits, labels} → [exps, loss, hit, inverses]; {exps, inverses, labels, rowScale} → dlogits. */
export const SOFTMAX_CROSS_ENTROPY = 'PretrainSoftmaxCrossEntropy';
export const SOFTMAX_CROSS_ENTROPY_GRAD = 'PretrainSoftmaxCrossEntropyGrad';
const FORWARD = SOFTMAX_CROSS_ENTROPY;
const BACKWARD = SOFTMAX_CROSS_ENTROPY_GRAD;

type Floats = Float32Array;
type Ints = Int32Array;

/** Index of the largest of `classes` values from `base` (the first on ties). */
function rowArgmax(values: Floats, base: number, classes: number): number {
  let argmax = 0;
  for (let c = 1; c < classes; c++) if (values[base + c] > values[base + argmax]) argmax = c;
  return argmax;
}

/**
 * Per row: loss (logSumExp − logit[label]), hit (argmax === label), and the softmax as exp(logit − max)
 * with 1 / Σ: the backward pass reuses them (the exponentials are most of the cost; computing them once
 * halves it) and folds the 1 / Σ into its own pass, so the forward writes the [rows, classes] array once.
 */
export function softmaxCrossEntropyRows(logits: Floats, labels: Ints, rows: number, classes: number, exps: Floats, inverses: Floats, loss: Floats, hit: Floats): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const argmax = rowArgmax(logits, base, classes);
    const max = logits[base + argmax];
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[base + c] - max);
      exps[base + c] = e;
      sum += e;
    }
    inverses[r] = 1 / sum;
    const label = labels[r];
    const counted = label >= 0 && label < classes;
    loss[r] = counted ? max + Math.log(sum) - logits[base + label] : 0;
    hit[r] = counted && argmax === label ? 1 : 0;
  }
}

/**
 * The same result as softmaxCrossEntropyRows in two passes around an external exponential:
 * `shiftRows` writes z = logit − rowMax (≤ 0) into `probs` and each row's max and argmax; the caller
 * turns `probs` into sigmoid(z) in place (on wasm: XNNPACK's vectorised Sigmoid, ~10× faster than
 * Math.exp in JS); `finishRows` recovers exp(z) = s / (1 − s) (exact algebra, s ≤ 1/2 so no
 * cancellation), sums each row (1 / Σ goes to `inverses`; the backward pass normalises) and writes
 * the loss and hit of each row.
 */
export function shiftRows(logits: Floats, rows: number, classes: number, probs: Floats, maxes: Floats, argmaxes: Ints): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const argmax = rowArgmax(logits, base, classes);
    const max = logits[base + argmax];
    for (let c = 0; c < classes; c++) probs[base + c] = logits[base + c] - max;
    maxes[r] = max;
    argmaxes[r] = argmax;
  }
}

export function finishRows(sigmoids: Floats, logits: Floats, labels: Ints, rows: number, classes: number, maxes: Floats, argmaxes: Ints, inverses: Floats, loss: Floats, hit: Floats): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const s = sigmoids[base + c];
      const e = s / (1 - s);
      sigmoids[base + c] = e;
      sum += e;
    }
    inverses[r] = 1 / sum;
    const label = labels[r];
    const counted = label >= 0 && label < classes;
    loss[r] = counted ? maxes[r] + Math.log(sum) - logits[base + label] : 0;
    hit[r] = counted && argmaxes[r] === label ? 1 : 0;
  }
}

/** dlogits = (exps · inverse[r] − onehot(label)) · rowScale[r], i.e. (softmax − onehot) · rowScale; rows with ignored labels get 0. */
export function softmaxCrossEntropyGradRows(exps: Floats, inverses: Floats, labels: Ints, rowScale: Floats, rows: number, classes: number, out: Floats): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const label = labels[r];
    const scale = label >= 0 && label < classes ? rowScale[r] : 0;
    if (scale === 0) {
      out.fill(0, base, base + classes);
      continue;
    }
    const factor = scale * inverses[r];
    for (let c = 0; c < classes; c++) out[base + c] = exps[base + c] * factor;
    out[base + label] -= scale;
  }
}

// ---------------------------------------------------------------------------------------------
// Kernels: the same loops over wasm heap views or cpu backend arrays

interface SigmoidBackend {
  dataIdMap: { get(dataId: object): { id: number } };
  wasm: { cwrap(name: string, returnType: null, argTypes: string[]): (...args: number[]) => void };
}

const wasmSigmoids = new WeakMap<object, (xId: number, outId: number) => void>();

/** The wasm backend's Sigmoid export (XNNPACK, SIMD) applied in place to a float32 tensor. */
function sigmoidInPlace(heap: SigmoidBackend, info: tf.TensorInfo): void {
  let sigmoid = wasmSigmoids.get(heap.wasm);
  if (!sigmoid) {
    sigmoid = heap.wasm.cwrap('Sigmoid', null, ['number', 'number']);
    wasmSigmoids.set(heap.wasm, sigmoid);
  }
  const id = heap.dataIdMap.get(info.dataId).id;
  sigmoid(id, id);
}

/** The fused forward kernel for `backendName` (cpu or wasm), registered by initBackend (kernels/<backend>/index.ts). */
export function softmaxCrossEntropyKernel(backendName: string) {
  return ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => {
    const { logits, labels } = inputs as { logits: tf.TensorInfo; labels: tf.TensorInfo };
    const [rows, classes] = logits.shape;
    const io = ioFor(backendName, backend);
    const probs = io.output([rows, classes], () => undefined);
    const loss = io.output([rows], () => undefined);
    const hit = io.output([rows], () => undefined);
    const inverses = io.output([rows], () => undefined);
    if (backendName === 'wasm' && rows * classes > 0) {
      // Exponentials through XNNPACK's sigmoid (see shiftRows). Views are taken again after the
      // Sigmoid call: creating its operator may allocate, and an allocation may move the heap.
      const maxes = new Float32Array(rows);
      const argmaxes = new Int32Array(rows);
      shiftRows(io.read(logits) as Floats, rows, classes, io.read(probs) as Floats, maxes, argmaxes);
      sigmoidInPlace(backend as SigmoidBackend, probs);
      finishRows(io.read(probs) as Floats, io.read(logits) as Floats, io.read(labels) as Ints, rows, classes, maxes, argmaxes, io.read(inverses) as Floats, io.read(loss) as Floats, io.read(hit) as Floats);
      return [probs, loss, hit, inverses];
    }
    // Views after all allocations (an allocation may move the wasm heap).
    softmaxCrossEntropyRows(io.read(logits) as Floats, io.read(labels) as Ints, rows, classes, io.read(probs) as Floats, io.read(inverses) as Floats, io.read(loss) as Floats, io.read(hit) as Floats);
    return [probs, loss, hit, inverses];
  };
}

/** The fused backward kernel for `backendName` (cpu or wasm). */
export function softmaxCrossEntropyGradKernel(backendName: string) {
  return ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => {
    const { exps, inverses, labels, rowScale } = inputs as Record<string, tf.TensorInfo>;
    const [rows, classes] = exps.shape;
    const io = ioFor(backendName, backend);
    const out = io.output([rows, classes], () => undefined);
    softmaxCrossEntropyGradRows(io.read(exps) as Floats, io.read(inverses) as Floats, io.read(labels) as Ints, io.read(rowScale) as Floats, rows, classes, io.read(out) as Floats);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// The op

export interface SoftmaxCrossEntropyOptions {
  /**
   * Labels ≥ classes are an error (default), or, with `ignoreAbove`, ignored like negative ones
   * (question answering: HF ignores answer positions clamped past the sequence).
   */
  ignoreAbove?: boolean;
  /** The error message for a label ≥ classes, so a head can name the option at fault; core's own otherwise. */
  describeOutOfRange?: (label: number, row: number, classes: number) => string;
  /** The first words of the rows-vs-labels mismatch error (default `softmaxCrossEntropy`). */
  caller?: string;
  /** Config path the errors carry in their details (e.g. `head.options.numLabels`). */
  path?: string;
}

/**
 * Mean softmax cross-entropy of [rows, classes] logits against integer labels (labels < 0 are
 * ignored, HF's -100 convention), plus accuracy. Differentiable with respect to the logits. The one
 * cross-entropy of the repository: objectives, core's pooled classifier and the task heads use it.
 * When every label is ignored the loss is 0 (torch returns NaN; a zero keeps accumulation finite).
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: Int32Array | tf.Tensor1D, options: SoftmaxCrossEntropyOptions = {}): SoftmaxCrossEntropyResult {
  const [rows, classes] = logits.shape;
  const host = labels instanceof Int32Array ? labels : (labels.dataSync() as Int32Array);
  const counted = countedLabels(host, rows, classes, options, 'softmaxCrossEntropy', 'rows of logits');
  const labelTensor = tf.tensor1d(host, 'int32');
  const fused = tf.getKernel(FORWARD, tf.getBackend()) !== undefined && logits.dtype === 'float32';
  if (!fused) return composed(logits, labelTensor, host, counted);
  const scale = counted > 0 ? 1 / counted : 0;
  let hits: tf.Tensor | undefined;
  const lossOf = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    // exps = exp(logit − rowMax) and inverses = 1 / Σ exps: the softmax, normalised in the backward pass.
    const [exps, perRow, hit, inverses] = tf.engine().runKernel(FORWARD, { logits: x, labels: labelTensor }) as tf.Tensor[];
    // The forward runs inside a tidy: keep the hit flags for the accuracy below (disposed there).
    hits = tf.keep(hit);
    save([exps, inverses, labelTensor]);
    return {
      value: tf.mul(tf.sum(perRow), scale) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedExps, savedInverses, savedLabels] = saved;
        const rowScale = tf.mul(tf.fill([rows], scale), dy);
        return tf.engine().runKernel(BACKWARD, { exps: savedExps, inverses: savedInverses, labels: savedLabels, rowScale }) as tf.Tensor;
      },
    };
  });
  const loss = lossOf(logits) as tf.Scalar;
  const accuracy = tf.mul(tf.sum(hits!), scale) as tf.Scalar;
  hits!.dispose();
  return { loss, accuracy };
}

/** Checks one label per row (and their range unless `ignoreAbove`); returns how many count toward the mean. */
function countedLabels(labels: Int32Array, rows: number, classes: number, options: SoftmaxCrossEntropyOptions, op: string, what: string): number {
  if (labels.length !== rows) throw new PretrainError(`${options.caller ?? op}: ${rows} ${what} but ${labels.length} labels`, { path: options.path });
  if (!options.ignoreAbove) assertLabelsInRange(labels, classes, options.describeOutOfRange, options.path);
  let counted = 0;
  for (const label of labels) if (label >= 0 && label < classes) counted++;
  return counted;
}

/**
 * A label ≥ classes is a data or config error; ignoring its row would silently drop it from training.
 * Throws a PretrainError (core's message, or `describe`'s) naming the first such label and its row.
 */
export function assertLabelsInRange(labels: ArrayLike<number>, classes: number, describe?: (label: number, row: number, classes: number) => string, path?: string): void {
  let row = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes) {
      row = i;
      break;
    }
  }
  if (row < 0) return;
  const label = labels[row];
  throw new PretrainError(describe ? describe(label, row, classes) : `softmaxCrossEntropy: label id ${label} (row ${row}) is outside the ${classes} classes (ids 0..${classes - 1}; negative ids are ignored)`, { path });
}

/** The same math from TF.js ops, for backends without the fused kernels. */
export interface LinearSoftmaxCrossEntropyOptions extends SoftmaxCrossEntropyOptions {
  /**
   * Whether gradients will be taken. Default: whether TF.js is recording them (inside tf.grad /
   * variableGrads). Without them a backend's fused kernel skips two of its three products.
   */
  gradients?: boolean;
}

/**
 * softmaxCrossEntropy(hidden · weightᵀ, labels) — an output projection (e.g. a tied LM head: weight is
 * [classes, width]) and the loss. Where the backend has core's optional PretrainLinearCrossEntropy (backend
 * native), the logits are computed and consumed a chunk of rows at a time and never exist whole (GPT-mini:
 * a [2032, 8000] logits tensor, its exponentials and its gradient, 65 MB each), and the gradients come from
 * the forward pass. Elsewhere it is exactly the matMul and softmaxCrossEntropy it names.
 */
export function linearSoftmaxCrossEntropy(hidden: tf.Tensor2D, weight: tf.Tensor2D, labels: Int32Array, options: LinearSoftmaxCrossEntropyOptions = {}): SoftmaxCrossEntropyResult {
  const fused = backendHasKernel(LINEAR_CROSS_ENTROPY) && hidden.dtype === 'float32' && weight.dtype === 'float32';
  if (!fused) return softmaxCrossEntropy(tf.matMul(hidden, weight, false, true) as tf.Tensor2D, labels, options);
  const [rows] = hidden.shape;
  const classes = weight.shape[0];
  const counted = countedLabels(labels, rows, classes, options, 'linearSoftmaxCrossEntropy', 'rows of hidden states');
  const scale = counted > 0 ? 1 / counted : 0;
  const gradients = options.gradients ?? tf.engine().isTapeOn();
  const labelTensor = tf.tensor1d(labels, 'int32');
  let hits: tf.Tensor | undefined;
  const lossOf = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [perRow, hit, dHidden, dWeight] = tf.engine().runKernel(LINEAR_CROSS_ENTROPY, { hidden: h, weight: w, labels: labelTensor }, { scale, gradients }) as tf.Tensor[];
    hits = tf.keep(hit);
    save([dHidden, dWeight]);
    return {
      value: tf.mul(tf.sum(perRow), scale) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (!gradients) throw new PretrainError('linearSoftmaxCrossEntropy: gradients taken of a loss computed with { gradients: false }');
        return [tf.mul(saved[0], dy), tf.mul(saved[1], dy)];
      },
    };
  });
  const loss = lossOf(hidden, weight) as tf.Scalar;
  const accuracy = tf.mul(tf.sum(hits!), scale) as tf.Scalar;
  hits!.dispose();
  return { loss, accuracy };
}

function composed(logits: tf.Tensor2D, labels: tf.Tensor1D, host: Int32Array, counted: number): SoftmaxCrossEntropyResult {
  const classes = logits.shape[1];
  const valid = tf.tensor1d(Float32Array.from(host, (l) => (l >= 0 && l < classes ? 1 : 0)));
  const safeLabels = tf.tensor1d(Int32Array.from(host, (l) => (l >= 0 && l < classes ? l : 0)), 'int32');
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  const logProbs = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
  const picked = tf.sum(tf.mul(tf.oneHot(safeLabels, classes, 1, 0, 'float32'), logProbs), -1);
  const scale = counted > 0 ? 1 / counted : 0;
  const loss = tf.mul(tf.neg(tf.sum(tf.mul(picked, valid))), scale) as tf.Scalar;
  const hit = tf.mul(tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'float32'), valid);
  return { loss, accuracy: tf.mul(tf.sum(hit), scale) as tf.Scalar };
}
