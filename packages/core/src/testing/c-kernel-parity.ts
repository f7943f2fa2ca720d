/**
 * The parity cases of core's C-function kernels (`cKernelList`), shared by the two sets of C functions
 * that drive them — core's wasm module and @pretrain/backend-native's addon: each case builds the same
 * ops on the backend under test and on the cpu backend (the reference), and says how close they must be.
 */
import * as tf from '@tensorflow/tfjs-core';
import { currentBackend, initBackend, type BackendName } from '../backend';
import { softmaxCrossEntropy } from '../losses';
import { geluErf, geluTanh, layerNorm } from '../nn';
import { ADAMW_UPDATE } from '../kernels/optional';
import type { Rng } from '../rng';
import { MATMUL_PARITY_CASES, type MatMulCase } from './matmul-cases';

export interface KernelParityCase {
  name: string;
  /** The ops, run on the backend under test (and on cpu, unless `reference` is given). */
  build: () => tf.Tensor | tf.Tensor[];
  /** What cpu runs instead, when the kernel has no op of its own (AdamW: the trainer's composed ops). */
  reference?: () => tf.Tensor | tf.Tensor[];
  /** Largest |ours − cpu| / max(1, |cpu|) allowed. */
  tolerance: number;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Products: core's shapes (every backend's BatchMatMul is checked on them) and the ones the C kernels fold, block or hand back. */
export const C_MATMUL_CASES: MatMulCase[] = [
  ...MATMUL_PARITY_CASES,
  ['rows not a multiple of 4, columns not of 8', [13, 29], [29, 21], false, false],
  ['k past one block of 256 (accumulated blocks)', [9, 600], [600, 19], false, false],
  ['n past one block of 256 columns', [5, 40], [530, 40], false, true],
  ['Aᵀ·B, long k (a weight gradient)', [700, 12], [700, 40], true, false],
  ['batched input · 2-D weightᵀ (one product)', [4, 6, 5], [3, 5], false, true],
  ['batched Aᵀ · 2-D weight (per batch)', [4, 5, 6], [5, 3], true, false],
  ['empty k', [3, 0], [0, 4], false, false],
];

/** Add, Sub, Mul, Div operand shapes: the layouts the C loop covers (either operand the small one), and broadcasts it hands back. */
const BINARY_SHAPES: [string, number[], number[]][] = [
  ['same shapes', [37, 19], [37, 19]],
  ['same shapes, large', [300, 301], [300, 301]],
  ['b a scalar', [37, 19], []],
  ['a a scalar', [], [37, 19]],
  ['a row repeated (bias)', [37, 19], [19]],
  ['trailing axes repeated', [2, 3, 4, 5], [1, 1, 4, 5]],
  ['leading 1 on the output', [1, 37, 19], [19]],
  ['one value per row (b)', [2, 3, 4, 5], [2, 3, 4, 1]],
  ['one value per row (a)', [2, 3, 4, 1], [2, 3, 4, 5]],
  ['both broadcast (the kernel below)', [3, 1], [1, 4]],
  ['middle axis broadcast (the kernel below)', [3, 1, 5], [3, 4, 5]],
];

/** Every case, with its random inputs drawn from `rng` now (so both backends see the same numbers). */
export function cKernelParityCases(rng: Rng): KernelParityCase[] {
  const random = (size: number, scale = 1) => Float32Array.from({ length: size }, () => rng.normal() * scale);
  return [...matMulCases(random), ...rowCases(random), ...binaryCases(random), adamwCase(random)];
}

type Random = (size: number, scale?: number) => Float32Array;

function matMulCases(random: Random): KernelParityCase[] {
  const products = C_MATMUL_CASES.map(([name, aShape, bShape, transposeA, transposeB]): KernelParityCase => {
    const [a, b] = [random(sizeOf(aShape)), random(sizeOf(bShape))];
    // float32 sums of hundreds of products differ from cpu's by their rounding order
    const k = transposeA ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
    return { name: `product: ${name}`, build: () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB), tolerance: k > 256 ? 5e-5 : 1e-5 };
  });
  const [x, w, bias, dy] = [random(6 * 8), random(8 * 11), random(11), random(6 * 11)];
  const dense = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, bias: bb });
  const [rx, rw] = [random(4 * 3), random(3 * 2)];
  return [
    ...products,
    {
      name: 'dense with bias (_FusedMatMul) and its gradients',
      build: () => {
        const inputs = [tf.tensor2d(x, [6, 8]), tf.tensor2d(w, [8, 11]), tf.tensor1d(bias)];
        return [dense(inputs[0], inputs[1], inputs[2]), ...tf.grads(dense)(inputs, tf.tensor2d(dy, [6, 11]))];
      },
      tolerance: 1e-5,
    },
    { name: 'a fused activation (the kernel below)', build: () => tf.fused.matMul({ a: tf.tensor2d(rx, [4, 3]), b: tf.tensor2d(rw, [3, 2]), bias: tf.tensor1d([0.5, -0.5]), activation: 'relu' }), tolerance: 1e-5 },
  ];
}

function rowCases(random: Random): KernelParityCase[] {
  const [rows, width] = [150, 33];
  const [x, gamma, beta, dy] = [random(rows * width, 3), random(width), random(width), random(rows * width)];
  const norm = (xx: tf.Tensor, g: tf.Tensor, bb: tf.Tensor) => layerNorm(xx as tf.Tensor2D, g as tf.Tensor1D, bb as tf.Tensor1D, 1e-12);
  const [xentRows, classes] = [9, 3001];
  const logits = random(xentRows * classes, 4);
  const labels = Int32Array.from([5, -100, 3000, 0, 17, -100, 2999, 1, 42]);
  logits[2 * classes + 3000] = 30; // a hit, and a row whose other exponentials underflow
  const sums = random(5 * 6 * 37);
  const [g, gdy] = [random(3 * 517, 3), random(3 * 517)];
  const gelu = (name: string, f: (t: tf.Tensor) => tf.Tensor): KernelParityCase => ({
    name: `GELU, ${name} form: value and gradient`,
    build: () => {
      const t = tf.tensor2d(g, [3, 517]);
      return [f(t), tf.grad((u: tf.Tensor) => f(u))(t, tf.tensor2d(gdy, [3, 517]))];
    },
    tolerance: 1e-5,
  });
  return [
    {
      name: 'LayerNorm forward and dx, dγ, dβ (rows past one 64-row block)',
      build: () => {
        const inputs = [tf.tensor2d(x, [rows, width]), tf.tensor1d(gamma), tf.tensor1d(beta)];
        return [norm(inputs[0], inputs[1], inputs[2]), ...tf.grads(norm)(inputs, tf.tensor2d(dy, [rows, width]))];
      },
      tolerance: 1e-5,
    },
    {
      name: 'softmax cross-entropy: loss, accuracy and gradient, with ignored labels and a large vocabulary',
      build: () => {
        const { loss, accuracy } = softmaxCrossEntropy(tf.tensor2d(logits, [xentRows, classes]), labels);
        return [loss, accuracy, tf.grad((l: tf.Tensor) => softmaxCrossEntropy(l as tf.Tensor2D, labels).loss)(tf.tensor2d(logits, [xentRows, classes]))];
      },
      tolerance: 2e-6,
    },
    {
      name: 'sums over leading axes, widths in and out of 16-column groups (others through the kernel below)',
      build: () => {
        const t = tf.tensor3d(sums, [5, 6, 37]);
        return [tf.sum(t, 0), tf.sum(t, [0, 1]), tf.sum(t, [0, 1], true), tf.sum(t, -1), tf.sum(t)];
      },
      tolerance: 1e-5,
    },
    gelu('erf', geluErf),
    gelu('tanh (GPT-2)', geluTanh),
  ];
}

function binaryCases(random: Random): KernelParityCase[] {
  const ops = [tf.add, tf.sub, tf.mul, tf.div] as const;
  return BINARY_SHAPES.flatMap(([name, aShape, bShape]): KernelParityCase[] => {
    const a = random(sizeOf(aShape));
    const b = Float32Array.from(random(sizeOf(bShape)), (v) => v + Math.sign(v) * 0.1);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
    const dy = random(sizeOf(outShape));
    const inputs = () => [tf.tensor(a, aShape), tf.tensor(b, bShape)];
    return [
      // One IEEE operation per element: cpu's bits.
      { name: `Add/Sub/Mul/Div, ${name}: forward`, build: () => ops.map((op) => op(inputs()[0], inputs()[1])), tolerance: 0 },
      // A broadcast operand's gradient sums over the broadcast axes (the Sum kernel: its own order).
      { name: `Add/Sub/Mul/Div, ${name}: gradients`, build: () => ops.flatMap((op) => tf.grads((p: tf.Tensor, q: tf.Tensor) => op(p, q))(inputs(), tf.tensor(dy, outShape))), tolerance: 1e-5 },
    ];
  });
}

/** One AdamW update in the kernel against @pretrain/trainer's composed ops. */
function adamwCase(random: Random): KernelParityCase {
  const n = 1000;
  const [param, grad, m] = [random(n), random(n, 0.1), random(n, 0.01)];
  const v = Float32Array.from(random(n, 0.001), Math.abs);
  const attrs = { decay: 1 - 1e-3 * 0.01, beta1: 0.9, beta2: 0.999, biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8, stepSize: 1e-3 / (1 - 0.9 ** 3) };
  const tensors = () => [param, grad, m, v].map((array) => tf.tensor1d(array));
  return {
    name: 'one AdamW update: the composed ops of @pretrain/trainer, in one kernel',
    build: () => {
      const [p, g, mm, vv] = tensors();
      return tf.engine().runKernel(ADAMW_UPDATE, { param: p, grad: g, expAvg: mm, expAvgSq: vv }, attrs) as tf.Tensor[];
    },
    reference: () => {
      const [p, g, mm, vv] = tensors();
      const expAvg = tf.add(tf.mul(mm, tf.scalar(attrs.beta1)), tf.mul(g, tf.scalar(1 - attrs.beta1)));
      const expAvgSq = tf.add(tf.mul(vv, tf.scalar(attrs.beta2)), tf.mul(tf.mul(g, g), tf.scalar(1 - attrs.beta2)));
      const denom = tf.add(tf.div(tf.sqrt(expAvgSq), tf.scalar(attrs.biasCorrection2Sqrt)), tf.scalar(attrs.eps));
      return [tf.sub(tf.mul(p, tf.scalar(attrs.decay)), tf.mul(tf.div(expAvg, denom), tf.scalar(attrs.stepSize))), expAvg, expAvgSq];
    },
    tolerance: 1e-6,
  };
}

export interface HostTensor {
  shape: number[];
  values: Float32Array;
}

/** Runs `fn` on `backend` (initBackend, inside a tidy) and copies its outputs to host arrays. */
export async function outputsOn(backend: BackendName, fn: () => tf.Tensor | tf.Tensor[], threads?: number): Promise<HostTensor[]> {
  await initBackend({ backend, threads, log: false });
  if (currentBackend()?.name !== backend) throw new Error(`outputsOn: asked for backend ${backend}, got ${currentBackend()?.name}`);
  return tf.tidy(() => {
    const result = fn();
    return (Array.isArray(result) ? result : [result]).map((t) => ({ shape: t.shape, values: Float32Array.from(t.dataSync() as Float32Array) }));
  });
}

/** The largest |actual − expected| / max(1, |expected|) over all outputs; throws when their number or shapes differ. */
export function worstRelativeDifference(actual: HostTensor[], expected: HostTensor[]): number {
  const shapes = (list: HostTensor[]) => JSON.stringify(list.map((t) => t.shape));
  if (shapes(actual) !== shapes(expected)) throw new Error(`outputs differ in shape: ${shapes(actual)} vs ${shapes(expected)}`);
  let worst = 0;
  actual.forEach((a, i) => {
    for (let j = 0; j < a.values.length; j++) worst = Math.max(worst, Math.abs(a.values[j] - expected[i].values[j]) / Math.max(1, Math.abs(expected[i].values[j])));
  });
  return worst;
}
