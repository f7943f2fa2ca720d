/**
 * core's wasm C module (packages/core/wasm/*.c) against the cpu backend, the reference, on random
 * inputs — forward and gradient — through the kernels that use it (kernels/c-pack/ over
 * simd-functions.ts); the prebuilt module against its sources; its bounds checks.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../../backend';
import { ADAMW_UPDATE } from '../optional';
import { dropout, geluErf, geluTanh, layerNorm } from '../../nn';
import { softmaxCrossEntropy } from '../../losses';
import { replacedKernels, withStockKernels } from '../stock';
import { Rng } from '../../rng';
import { MATMUL_PARITY_CASES, type MatMulCase } from '../../testing/matmul-cases';
import { KERNELS_SOURCE_SHA256 } from './simd-modules.generated';
import { wasmSimdFunctions } from './simd-functions';
import { simdKernels } from './simd-kernels';
import type { WasmBackendLike } from './types';
import '../../gradients';

const rng = new Rng(23);
const randomArray = (size: number, scale = 1) => Float32Array.from({ length: size }, () => rng.normal() * scale);
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

type Host = { shape: number[]; values: Float32Array };

async function on(backend: BackendName, fn: () => tf.Tensor | tf.Tensor[]): Promise<Host[]> {
  await initBackend({ backend, threads: 1, log: false });
  expect(tf.getBackend()).toBe(backend);
  return tf.tidy(() => {
    const result = fn();
    return (Array.isArray(result) ? result : [result]).map((t) => ({ shape: t.shape, values: Float32Array.from(t.dataSync() as Float32Array) }));
  });
}

function expectClose(actual: Host[], expected: Host[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a.shape).toEqual(expected[i].shape);
    let worst = 0;
    for (let j = 0; j < a.values.length; j++) worst = Math.max(worst, Math.abs(a.values[j] - expected[i].values[j]) / Math.max(1, Math.abs(expected[i].values[j])));
    expect(worst).toBeLessThanOrEqual(tolerance);
  });
}

async function wasmVsCpu(fn: () => tf.Tensor | tf.Tensor[], tolerance = 1e-5): Promise<void> {
  const reference = await on('cpu', fn);
  const wasm = await on('wasm', fn);
  expectClose(wasm, reference, tolerance);
}

afterAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

describe('the wasm C module', () => {
  it('is registered over the wasm kernels, and withStockKernels takes it off and puts it back', async () => {
    await initBackend({ backend: 'wasm', threads: 1, log: false });
    expect(replacedKernels()).toEqual(expect.arrayContaining(['BatchMatMul@wasm (C)', '_FusedMatMul@wasm (C)', 'PretrainLayerNorm@wasm (C)', 'PretrainLayerNormGrad@wasm (C)', 'PretrainSoftmaxCrossEntropy@wasm (C)', 'Sum@wasm (C)', 'PretrainGelu@wasm (C)', 'PretrainAdamW@wasm (C)']));
    const kernel = () => tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    const ours = kernel();
    expect(withStockKernels(kernel)).not.toBe(ours);
    expect(kernel()).toBe(ours);
  });

  it('is the module built from packages/core/wasm/*.c (npm run build:wasm-kernels after editing them)', () => {
    const hash = crypto.createHash('sha256');
    for (const file of ['gemm.c', 'kernels.c', 'work.h']) hash.update(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'wasm', file)));
    expect(hash.digest('hex')).toBe(KERNELS_SOURCE_SHA256);
  });

  // The same clang as the generated file names (Debian 12's; CI installs it): other versions emit other bytes.
  const generatedBy = fs.readFileSync(path.join(__dirname, 'simd-modules.generated.ts'), 'utf8').match(/^\/\/ clang: (.*)$/m)?.[1];
  const clang = (() => {
    try {
      execFileSync('wasm-ld', ['--version'], { stdio: 'ignore' });
      return execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0] === generatedBy;
    } catch {
      return false;
    }
  })();
  (clang ? it : it.skip)('rebuilds to the same bytes (where the same clang and lld are installed)', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-wasm-kernels-')), 'rebuilt.ts');
    try {
      execFileSync(process.execPath, [path.join(__dirname, '..', '..', '..', '..', '..', 'tools', 'scripts', 'build-wasm-kernels.js'), '--out', out], { stdio: 'ignore' });
      expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(path.join(__dirname, 'simd-modules.generated.ts'), 'utf8'));
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});

describe('products (gemm.c) against the cpu backend', () => {
  const cases: MatMulCase[] = [
    ...MATMUL_PARITY_CASES,
    ['rows not a multiple of 4, columns not of 8', [13, 29], [29, 21], false, false],
    ['k past one block of 256 (accumulated blocks)', [9, 600], [600, 19], false, false],
    ['n past one block of 256 columns', [5, 40], [530, 40], false, true],
    ['Aᵀ·B, long k (a weight gradient)', [700, 12], [700, 40], true, false],
    ['batched input · 2-D weightᵀ (one product)', [4, 6, 5], [3, 5], false, true],
    ['batched Aᵀ · 2-D weight (per batch)', [4, 5, 6], [5, 3], true, false],
    ['empty k', [3, 0], [0, 4], false, false],
  ];
  it.each(cases)('%s', async (_name, aShape, bShape, transposeA, transposeB) => {
    const a = randomArray(sizeOf(aShape));
    const b = randomArray(sizeOf(bShape));
    // float32 sums of hundreds of products differ from cpu's by their rounding order
    const k = transposeA ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
    await wasmVsCpu(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB), k > 256 ? 5e-5 : 1e-5);
  });

  it('dense with bias (_FusedMatMul) and its gradients', async () => {
    const [x, w, bias, dy] = [randomArray(6 * 8), randomArray(8 * 11), randomArray(11), randomArray(6 * 11)];
    await wasmVsCpu(() => {
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, bias: bb });
      const inputs = [tf.tensor2d(x, [6, 8]), tf.tensor2d(w, [8, 11]), tf.tensor1d(bias)];
      return [f(inputs[0], inputs[1], inputs[2]), ...tf.grads(f)(inputs, tf.tensor2d(dy, [6, 11]))];
    });
  });

  it('a fused activation goes to the kernel below (XNNPACK\'s)', async () => {
    const [x, w] = [randomArray(4 * 3), randomArray(3 * 2)];
    await wasmVsCpu(() => tf.fused.matMul({ a: tf.tensor2d(x, [4, 3]), b: tf.tensor2d(w, [3, 2]), bias: tf.tensor1d([0.5, -0.5]), activation: 'relu' }));
  });
});

describe('LayerNorm, softmax cross-entropy, sums, GELU and AdamW (kernels.c) against the cpu backend', () => {
  it('LayerNorm forward and dx, dγ, dβ (rows past one 64-row block)', async () => {
    const [rows, width] = [150, 33];
    const [x, gamma, beta, dy] = [randomArray(rows * width, 3), randomArray(width), randomArray(width), randomArray(rows * width)];
    await wasmVsCpu(() => {
      const f = (xx: tf.Tensor, g: tf.Tensor, bb: tf.Tensor) => layerNorm(xx as tf.Tensor2D, g as tf.Tensor1D, bb as tf.Tensor1D, 1e-12);
      const inputs = [tf.tensor2d(x, [rows, width]), tf.tensor1d(gamma), tf.tensor1d(beta)];
      return [f(inputs[0], inputs[1], inputs[2]), ...tf.grads(f)(inputs, tf.tensor2d(dy, [rows, width]))];
    });
  });

  it('loss, accuracy and gradient, with ignored labels and a large vocabulary', async () => {
    const [rows, classes] = [9, 3001];
    const logits = randomArray(rows * classes, 4);
    const labels = Int32Array.from([5, -100, 3000, 0, 17, -100, 2999, 1, 42]);
    logits[2 * classes + 3000] = 30; // a hit, and a row whose other exponentials underflow
    await wasmVsCpu(() => {
      const { loss, accuracy } = softmaxCrossEntropy(tf.tensor2d(logits, [rows, classes]), labels);
      const grad = tf.grad((l: tf.Tensor) => softmaxCrossEntropy(l as tf.Tensor2D, labels).loss)(tf.tensor2d(logits, [rows, classes]));
      return [loss, accuracy, grad];
    }, 2e-6);
  });

  it('sums over leading axes, widths in and out of 16-column groups (others through the kernel below)', async () => {
    const x = randomArray(5 * 6 * 37);
    await wasmVsCpu(() => {
      const t = tf.tensor3d(x, [5, 6, 37]);
      return [tf.sum(t, 0), tf.sum(t, [0, 1]), tf.sum(t, [0, 1], true), tf.sum(t, -1), tf.sum(t)];
    });
  });

  it.each([
    ['erf', geluErf],
    ['tanh (GPT-2)', geluTanh],
  ] as const)('GELU, %s form: value and gradient', async (_name, gelu) => {
    const [x, dy] = [randomArray(3 * 517, 3), randomArray(3 * 517)];
    await wasmVsCpu(() => {
      const t = tf.tensor2d(x, [3, 517]);
      return [gelu(t), tf.grad((u: tf.Tensor) => gelu(u))(t, tf.tensor2d(dy, [3, 517]))];
    });
  });

  it('one AdamW update: the composed ops of @pretrain/trainer, in one kernel', async () => {
    const n = 1000;
    const [param, grad, m] = [randomArray(n), randomArray(n, 0.1), randomArray(n, 0.01)];
    const v = Float32Array.from(randomArray(n, 0.001), Math.abs);
    const attrs = { decay: 1 - 1e-3 * 0.01, beta1: 0.9, beta2: 0.999, biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8, stepSize: 1e-3 / (1 - 0.9 ** 3) };
    const reference = await on('cpu', () => {
      const [p, g, mm, vv] = [param, grad, m, v].map((a) => tf.tensor1d(a));
      const expAvg = tf.add(tf.mul(mm, tf.scalar(attrs.beta1)), tf.mul(g, tf.scalar(1 - attrs.beta1)));
      const expAvgSq = tf.add(tf.mul(vv, tf.scalar(attrs.beta2)), tf.mul(tf.mul(g, g), tf.scalar(1 - attrs.beta2)));
      const denom = tf.add(tf.div(tf.sqrt(expAvgSq), tf.scalar(attrs.biasCorrection2Sqrt)), tf.scalar(attrs.eps));
      return [tf.sub(tf.mul(p, tf.scalar(attrs.decay)), tf.mul(tf.div(expAvg, denom), tf.scalar(attrs.stepSize))), expAvg, expAvgSq];
    });
    const wasm = await on('wasm', () => {
      const [p, g, mm, vv] = [param, grad, m, v].map((a) => tf.tensor1d(a));
      return tf.engine().runKernel(ADAMW_UPDATE, { param: p, grad: g, expAvg: mm, expAvgSq: vv }, attrs) as tf.Tensor[];
    });
    expectClose(wasm, reference, 1e-6);
  });
});

describe('Add, Sub, Mul, Div and dropout masks (kernels.c)', () => {
  const ops = [tf.add, tf.sub, tf.mul, tf.div] as const;
  // [name, a shape, b shape]: layouts the C loop covers (either operand the small one), and a broadcast it hands back.
  const shapes: [string, number[], number[]][] = [
    ['same shapes', [37, 19], [37, 19]],
    ['same shapes, large (chunks)', [300, 301], [300, 301]],
    ['b a scalar', [37, 19], []],
    ['a a scalar', [], [37, 19]],
    ['a row repeated (bias)', [37, 19], [19]],
    ['one value per row (b)', [2, 3, 4, 5], [2, 3, 4, 1]],
    ['one value per row (a)', [2, 3, 4, 1], [2, 3, 4, 5]],
    ['both broadcast (the kernel below)', [3, 1], [1, 4]],
  ];
  it.each(shapes)('%s: the cpu backend\'s bits, and gradients', async (_name, aShape, bShape) => {
    const a = randomArray(sizeOf(aShape));
    const b = Float32Array.from(randomArray(sizeOf(bShape)), (v) => v + Math.sign(v) * 0.1);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
    const dy = randomArray(sizeOf(outShape));
    const inputs = () => [tf.tensor(a, aShape), tf.tensor(b, bShape)];
    await wasmVsCpu(() => ops.map((op) => op(inputs()[0], inputs()[1])), 0);
    await wasmVsCpu(() => ops.flatMap((op) => tf.grads((x: tf.Tensor, y: tf.Tensor) => op(x, y))(inputs(), tf.tensor(dy, outShape))), 1e-5);
  });

  it.each([10_001, 4096, 1])('dropout masks: what Rng.fillDropoutMask draws, and the generator left where it leaves it (%i elements)', async (n) => {
    const x = Float32Array.from({ length: n }, (_, i) => i + 1);
    const expected = new Float32Array(n);
    const js = new Rng(42);
    js.fillDropoutMask(expected, Math.round(0.9 * 65536), 1 / 0.9);
    const generator = new Rng(42);
    const [out] = await on('wasm', () => dropout(tf.tensor1d(x), 0.1, generator));
    expect(replacedKernels()).toContain('PretrainDropoutMask@wasm (C)');
    expect(Array.from(out.values)).toEqual(Array.from(x, (v, i) => Math.fround(v * expected[i])));
    expect(generator.getState()).toEqual(js.getState());
  });
});

describe('the C functions check their arguments before touching memory', () => {
  it('rejects operands too short for the shapes, and arrays that are not views of the wasm heap', async () => {
    await initBackend({ backend: 'wasm', threads: 1, log: false });
    const module = simdKernels(tf.backend() as unknown as WasmBackendLike)!;
    const heap = new Float32Array(module.heap(), module.malloc(64 * 4), 64);
    expect(() => wasmSimdFunctions.sgemm(heap.subarray(0, 5), heap, heap, 2, 2, 3, false, false, 1, 0, 0, null)).toThrow(/too short/);
    expect(() => wasmSimdFunctions.layerNorm(heap, heap, heap, 8, 9, 1e-5, heap)).toThrow(/too short/);
    expect(() => wasmSimdFunctions.columnSum(new Float32Array(8), 2, 4, heap)).toThrow(/not a view of the wasm heap/);
    expect(() => wasmSimdFunctions.binary(2, heap.subarray(0, 10), heap, heap, 3, false)).toThrow(/multiple of period/);
    expect(() => wasmSimdFunctions.dropoutMask(new Int32Array(4), heap, 100, 1)).toThrow(/not a view of the wasm heap/);
    expect(() => wasmSimdFunctions.erf(heap, heap)).toThrow(/not among core's wasm C functions/);
    module.free(heap.byteOffset);
  });
});
