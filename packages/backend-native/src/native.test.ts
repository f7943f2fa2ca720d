/**
 * The native kernels against the cpu backend (the reference) on random inputs — forward and gradient —
 * a small training loop that must track the cpu backend's losses with a flat tensor count, and the
 * addon's bounds checks. Where no binary is built here (no compiler or OpenBLAS), the tests check the
 * fallback instead: backend "native" fails with a message saying how to get it, and the default stays
 * wasm. CI sets PRETRAIN_NATIVE_REQUIRED=1, so there a missing binary is a failure.
 */
import * as tf from '@tensorflow/tfjs-core';
import { currentBackend, dropout, linearSoftmaxCrossEntropy, initBackend, layerNorm, registerKernelPack, replacedKernels, Rng, softmaxCrossEntropy, withStockKernels, type BackendName } from '@pretrain/core';
import * as fs from 'fs';
import * as path from 'path';
import { cKernelParityCases, generatedBlock, kernelTable, outputsOn, withGeneratedBlock, worstRelativeDifference, type HostTensor } from '@pretrain/core/testing';
import { loadAddon, nativeKernelList, nativeKernels, type NativeAddon } from './index';
import { binaryLayout } from '@pretrain/core/testing';

const loaded = loadAddon();
const built = !('missing' in loaded);
registerKernelPack(nativeKernels);

const rng = new Rng(11);
const randomArray = (size: number, scale = 1) => Float32Array.from({ length: size }, () => rng.normal() * scale);

type Host = HostTensor;
const on = (backend: BackendName, fn: () => tf.Tensor | tf.Tensor[]) => outputsOn(backend, fn);

function expectClose(actual: Host[], expected: Host[], tolerance: number): void {
  expect(worstRelativeDifference(actual, expected)).toBeLessThanOrEqual(tolerance);
}

async function nativeVsCpu(fn: () => tf.Tensor | tf.Tensor[], tolerance = 1e-5, cpuFn = fn): Promise<void> {
  const reference = await on('cpu', cpuFn);
  const native = await on('native', fn);
  expect(currentBackend()?.name).toBe('native');
  expectClose(native, reference, tolerance);
}

afterAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

if (!built) {
  describe('without a native binary', () => {
    it('is allowed only outside CI', () => {
      expect(process.env.PRETRAIN_NATIVE_REQUIRED).not.toBe('1');
    });

    it('says how to get one, and backend "native" fails with that reason', async () => {
      expect((loaded as { missing: string }).missing).toMatch(/pretrain-build-native|does not load/);
      await expect(initBackend({ backend: 'native', log: false })).rejects.toThrow(/backend "native" is not available here/);
    });

    it('leaves the wasm backend usable and says why native is not used', async () => {
      const lines: string[] = [];
      const info = await initBackend({ backend: 'wasm', logger: (line) => lines.push(line) });
      expect(info.name).toBe('wasm');
      expect(info.detail).toMatch(/native kernels unavailable/);
    });
  });
} else {
  describe('the C kernels against the cpu backend (core\'s cases, shared with its wasm module)', () => {
    it.each(cKernelParityCases(new Rng(11)).map((c) => [c.name, c] as const))('%s', async (_name, parityCase) => {
      await nativeVsCpu(parityCase.build, parityCase.tolerance, parityCase.reference);
    });

    it('int32 products go to the previous kernel (which, on wasm, refuses them)', async () => {
      await expect(on('native', () => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6, 7, 8], [2, 2], 'int32')))).rejects.toThrow(/non float32|non non-float32/);
    });

    it('erf, and the exact GELU gradient through it', async () => {
      const x = randomArray(4 * 301, 2.5);
      await nativeVsCpu(() => {
        const t = tf.tensor2d(x, [4, 301]);
        return [tf.erf(t), tf.grad((u: tf.Tensor) => tf.sum(tf.mul(u, tf.erf(u))))(t)];
      }, 1e-6);
    });
  });

  describe('output projection and loss in chunks (linearSoftmaxCrossEntropy) against matMul + loss on the cpu backend', () => {
    it.each([
      ['one chunk, ignored labels', 37, 16, 50],
      ['rows in five chunks of 16 (70,000 classes)', 70, 8, 70_000],
    ])('%s: loss, accuracy, both gradients', async (_name, rows, width, classes) => {
      const hidden = randomArray(rows * width);
      const weight = randomArray(classes * width, 0.5);
      const labels = Int32Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? -100 : (i * 7919) % classes));
      await nativeVsCpu(() => {
        const f = (h: tf.Tensor, w: tf.Tensor) => linearSoftmaxCrossEntropy(h as tf.Tensor2D, w as tf.Tensor2D, labels).loss;
        const inputs = [tf.tensor2d(hidden, [rows, width]), tf.tensor2d(weight, [classes, width])];
        const { loss, accuracy } = linearSoftmaxCrossEntropy(inputs[0] as tf.Tensor2D, inputs[1] as tf.Tensor2D, labels);
        return [loss, accuracy, ...tf.grads(f)(inputs, tf.scalar(1.5))];
      });
      expect(replacedKernels()).toContain('PretrainLinearCrossEntropy@wasm (native)');
    });

    it('without gradients: the same loss and accuracy, and no gradient may be taken', async () => {
      const [rows, width, classes] = [20, 6, 30];
      const hidden = randomArray(rows * width);
      const weight = randomArray(classes * width);
      const labels = Int32Array.from({ length: rows }, (_, i) => i % classes);
      const run = (gradients: boolean) => on('native', () => {
        const { loss, accuracy } = linearSoftmaxCrossEntropy(tf.tensor2d(hidden, [rows, width]), tf.tensor2d(weight, [classes, width]), labels, { gradients });
        return [loss, accuracy];
      });
      expectClose(await run(false), await run(true), 0);
      await expect(on('native', () => tf.grad((h: tf.Tensor) => linearSoftmaxCrossEntropy(h as tf.Tensor2D, tf.tensor2d(weight, [classes, width]), labels, { gradients: false }).loss)(tf.tensor2d(hidden, [rows, width])))).rejects.toThrow(/gradients: false/);
    });
  });

  describe('C Add, Sub, Mul and Div beyond the shared cases', () => {
    it('int32 goes to the previous kernel', async () => {
      const [result] = await on('native', () => tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32')));
      expect(Array.from(result.values)).toEqual([5, 7, 9]);
    });

    it('lays the small operand out against the output, or declines', () => {
      expect(binaryLayout([4, 5], [])).toEqual({ period: 1, block: false });
      expect(binaryLayout([4, 5], [4, 5])).toEqual({ period: 20, block: false });
      expect(binaryLayout([4, 5], [5])).toEqual({ period: 5, block: false });
      expect(binaryLayout([1, 4, 5], [5])).toEqual({ period: 5, block: false });
      expect(binaryLayout([2, 4, 5], [1, 4, 5])).toEqual({ period: 20, block: false });
      expect(binaryLayout([2, 4, 5], [2, 4, 1])).toEqual({ period: 5, block: true });
      expect(binaryLayout([2, 4, 5], [2, 1, 5])).toBeUndefined();
      expect(binaryLayout([2, 4, 5], [1, 4, 1])).toBeUndefined();
      expect(binaryLayout([0, 5], [5])).toBeUndefined();
    });
  });

  describe('dropout masks in C', () => {
    const { addon } = loaded as Exclude<typeof loaded, { missing: string }>;
    it.each([10_001, 4096, 1])('draws what Rng.fillDropoutMask draws and leaves the generator where it does (%i elements)', (n) => {
      const js = new Rng(42);
      const expected = new Float32Array(n);
      js.fillDropoutMask(expected, Math.round(0.9 * 65536), 1 / 0.9);
      const state = Int32Array.from(new Rng(42).getState().s);
      const mask = new Float32Array(n);
      addon.dropoutMask(state, mask, Math.round(0.9 * 65536), 1 / 0.9);
      expect(Buffer.from(mask.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      expect(Array.from(state, (w) => w >>> 0)).toEqual(js.getState().s);
    });

    it('dropout() with an Rng gives the wasm backend\'s output and generator state', async () => {
      const x = randomArray(3 * 129);
      const run = async (backend: BackendName) => {
        const generator = new Rng(9);
        const out = await on(backend, () => [dropout(tf.tensor2d(x, [3, 129]), 0.1, generator), dropout(tf.tensor2d(x, [3, 129]), 0.3, generator)]);
        return { out, state: generator.getState() };
      };
      const wasm = await run('wasm');
      const native = await run('native');
      expect(replacedKernels()).toContain('PretrainDropoutMask@wasm (native)');
      expectClose(native.out, wasm.out, 0);
      expect(native.state).toEqual(wasm.state);
    });
  });

  describe('bfloat16 products (precision, a build with oneDNN: PRETRAIN_NATIVE_ONEDNN=1)', () => {
    const { addon } = loaded as Exclude<typeof loaded, { missing: string }>;
    const bf16 = addon.precisions().includes('bfloat16');
    afterAll(() => initBackend({ backend: 'native', precision: 'float32', log: false }));

    it('is on where CI asks for it (PRETRAIN_NATIVE_BF16_REQUIRED=1)', () => {
      if (process.env.PRETRAIN_NATIVE_BF16_REQUIRED === '1') expect(addon.precisions()).toEqual(['float32', 'bfloat16']);
      expect(addon.precisions()[0]).toBe('float32');
    });

    if (bf16) {
      it('rounds the operands to bfloat16: products within bf16 rounding of cpu, not equal to float32; float32 again after', async () => {
        const [a, b, x, w] = [randomArray(300 * 200), randomArray(200 * 150), randomArray(32 * 64), randomArray(64 * 512)];
        // The last two have blocks of the same shape (32 × 256 × 64) but different row strides in C: one whole
        // product [32, 256], then one split by columns into two such blocks of a [32, 512] (2 threads below).
        const product = () => [
          tf.matMul(tf.tensor2d(a, [300, 200]), tf.tensor2d(b, [200, 150])),
          tf.matMul(tf.tensor2d(a, [200, 300]), tf.tensor2d(b, [150, 200]), true, true),
          tf.matMul(tf.tensor2d(x, [32, 64]), tf.tensor2d(w.subarray(0, 64 * 256), [64, 256])),
          tf.matMul(tf.tensor2d(x, [32, 64]), tf.tensor2d(w, [64, 512])),
        ];
        const reference = await on('cpu', product);
        await initBackend({ backend: 'native', precision: 'bfloat16', log: false });
        expect(currentBackend()).toMatchObject({ name: 'native', precision: 'bfloat16', detail: expect.stringMatching(/^bfloat16 products; /) });
        expect(addon.precision()).toBe('bfloat16');
        addon.setThreads(2);
        const rounded = await on('native', product).finally(() => addon.setThreads(1));
        // Each output's largest error against its largest value: 8 significand bits give ~2e-3 (docs/benchmarks.md).
        const errors = rounded.map((out, i) => {
          const largest = Math.max(...reference[i].values.map(Math.abs));
          return Math.max(...out.values.map((v, j) => Math.abs(v - reference[i].values[j]))) / largest;
        });
        for (const error of errors) {
          expect(error).toBeGreaterThan(1e-4); // it did round
          expect(error).toBeLessThan(1e-2);
        }
        await initBackend({ backend: 'native', precision: 'float32', log: false });
        expect(addon.precision()).toBe('float32');
        expect(worstRelativeDifference(await on('native', product), reference)).toBeLessThanOrEqual(5e-5); // float32 sums of 200 products, another order
      });

      it('is float32 again on backend wasm (the pack\'s kernels stay registered over it)', async () => {
        await initBackend({ backend: 'native', precision: 'bfloat16', log: false });
        expect(addon.precision()).toBe('bfloat16');
        await initBackend({ backend: 'wasm', log: false });
        expect(currentBackend()?.precision).toBe('float32');
        expect(addon.precision()).toBe('float32');
      });
    } else {
      it('says how to get it', async () => {
        expect(() => addon.setPrecision('bfloat16')).toThrow(/oneDNN/);
        await expect(initBackend({ backend: 'native', precision: 'bfloat16', log: false })).rejects.toThrow(/PRETRAIN_NATIVE_ONEDNN=1/);
      });
    }
  });

  describe('training on the native backend', () => {
    /** A two-layer classifier with LayerNorm and the fused loss: 6 AdamW-free SGD steps. */
    function losses(steps: number, counts: number[]): number[] {
      const data = new Rng(3);
      const x = tf.tensor2d(Float32Array.from({ length: 32 * 16 }, () => data.normal()), [32, 16]);
      const labels = Int32Array.from({ length: 32 }, (_, i) => i % 5);
      const w1 = tf.variable(tf.tensor2d(Float32Array.from({ length: 16 * 24 }, () => data.normal() * 0.2), [16, 24]));
      const b1 = tf.variable(tf.zeros([24]));
      const gamma = tf.variable(tf.ones([24]));
      const beta = tf.variable(tf.zeros([24]));
      const w2 = tf.variable(tf.tensor2d(Float32Array.from({ length: 24 * 5 }, () => data.normal() * 0.2), [24, 5]));
      const out: number[] = [];
      for (let step = 0; step < steps; step++) {
        const value = tf.tidy(() => {
          const { value: loss, grads } = tf.variableGrads(() => {
            const h = tf.relu(layerNorm(tf.add(tf.matMul(x, w1), b1) as tf.Tensor2D, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-5));
            return softmaxCrossEntropy(tf.matMul(h, w2) as tf.Tensor2D, labels).loss;
          });
          for (const [name, g] of Object.entries(grads)) {
            const v = [w1, b1, gamma, beta, w2].find((p) => p.name === name)!;
            v.assign(tf.sub(v, tf.mul(g, 0.5)));
          }
          return loss.dataSync()[0];
        });
        out.push(value);
        counts.push(tf.memory().numTensors);
      }
      for (const t of [x, w1, b1, gamma, beta, w2]) t.dispose();
      return out;
    }

    it('tracks the cpu backend step for step, with the tensor count flat', async () => {
      await initBackend({ backend: 'cpu', log: false });
      const reference = losses(6, []);
      await initBackend({ backend: 'native', log: false });
      const counts: number[] = [];
      const native = losses(6, counts);
      expect(native[5]).toBeLessThan(native[0]);
      native.forEach((loss, i) => expect(Math.abs(loss - reference[i])).toBeLessThan(1e-4));
      expect(new Set(counts.slice(1)).size).toBe(1);
    });

    it('lists its kernels, and withStockKernels takes them off and puts them back', async () => {
      await initBackend({ backend: 'native', log: false });
      expect(replacedKernels()).toEqual(expect.arrayContaining(['BatchMatMul@wasm (native)', '_FusedMatMul@wasm (native)', 'PretrainLayerNorm@wasm (native)', 'PretrainSoftmaxCrossEntropy@wasm (native)', 'Sum@wasm (native)', 'Erf@wasm (native)', 'PretrainGelu@wasm (native)', 'PretrainAdamW@wasm (native)']));
      const kernel = () => tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
      const native = kernel();
      const inside = withStockKernels(kernel);
      expect(inside).not.toBe(native);
      expect(kernel()).toBe(native);
    });
  });

  describe('threads split every kernel, products included, without changing a bit', () => {
    const { addon } = loaded as Exclude<typeof loaded, { missing: string }>;
    afterAll(() => addon.setThreads(1));
    /** Every kernel once on inputs large enough to be split, with `threads` threads. */
    function runAll(threads: number): Float32Array[] {
      addon.setThreads(threads);
      const data = new Rng(5);
      const fill = (n: number, scale = 1) => Float32Array.from({ length: n }, () => data.normal() * scale);
      const rows = 600;
      const width = 512;
      const n = rows * width;
      const [x, dy, gamma, beta] = [fill(n, 2), fill(n), fill(width), fill(width)];
      const outs: Float32Array[] = [];
      const out = (size: number) => {
        const o = new Float32Array(size);
        outs.push(o);
        return o;
      };
      addon.layerNorm(x, gamma, beta, rows, width, 1e-5, out(n));
      addon.gelu(x, null, out(n), false);
      addon.gelu(x, dy, out(n), true);
      addon.erf(x, out(n));
      addon.columnSum(x, rows, width, out(width));
      const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7) % width);
      const [exps, inverses] = [out(n), out(rows)];
      addon.softmaxXent(x, labels, rows, width, exps, inverses, out(rows), out(rows));
      addon.softmaxXentGrad(exps, inverses, labels, new Float32Array(rows).fill(1 / rows), rows, width, out(n));
      const v = Float32Array.from(fill(n, 0.01), Math.abs);
      addon.adamw(x, dy, fill(n, 0.01), v, out(n), out(n), out(n), 0.99, 0.9, 0.1, 0.999, 0.001, 0.05, 1e-8, 0.01);
      addon.layerNormGrad(dy, x, gamma, rows, width, 1e-5, out(n), out(width), out(width));
      // Products large enough to be split: by rows (m ≥ n), by columns (n > m), by batch items; with a bias, transposed.
      const [a, b] = [fill(600 * 256), fill(256 * 512)];
      addon.sgemm(a, b, out(600 * 512), 600, 512, 256, false, false, 1, 0, 0, fill(512));
      addon.sgemm(a, a, out(600 * 600), 600, 600, 256, false, true, 1, 0, 0, null);
      addon.sgemm(b, a, out(512 * 600), 512, 600, 256, true, true, 1, 0, 0, null);
      addon.sgemm(fill(100 * 256), b, out(100 * 512), 100, 512, 256, false, false, 1, 0, 0, null);
      addon.sgemm(a, a, out(8 * 75 * 75), 75, 75, 256, false, true, 8, 75 * 256, 75 * 256, null);
      const perRow = fill(rows);
      for (let op = 0; op < 6; op++) {
        addon.binary(op, x, dy, out(n), n, false);
        addon.binary(op, x, gamma, out(n), width, false);
        addon.binary(op, x, perRow, out(n), width, true);
      }
      return outs;
    }

    it('gives the same outputs with 1 and 2 threads', () => {
      const one = runAll(1);
      const two = runAll(2);
      expect(addon.threads()).toBe(2);
      two.forEach((values, i) => expect(Buffer.from(values.buffer).equals(Buffer.from(one[i].buffer))).toBe(true));
    });
  });

  describe('a second JS thread using the addon at the same time', () => {
    const { addon, file } = loaded as Exclude<typeof loaded, { missing: string }>;
    afterAll(() => addon.setThreads(1));

    it('gets the same results as one thread alone (the pool serves one caller; the other runs alone)', async () => {
      addon.setThreads(2);
      const [m, k, n] = [256, 128, 128]; // 4M multiply-adds: split across the pool
      const data = new Rng(21);
      const a = Float32Array.from({ length: m * k }, () => data.normal());
      const b = Float32Array.from({ length: k * n }, () => data.normal());
      const x = Float32Array.from({ length: 300_000 }, () => data.normal());
      const expected = { product: new Float32Array(m * n), gelu: new Float32Array(x.length) };
      addon.sgemm(a, b, expected.product, m, n, k, false, false, 1, 0, 0, null);
      addon.gelu(x, null, expected.gelu, false);
      // The worker loads the same binary and repeats the same work while this thread does too.
      const { Worker } = await import('worker_threads');
      const worker = new Worker(
        `const { parentPort, workerData } = require('worker_threads');
         const addon = require(workerData.file);
         addon.setThreads(2);
         const { a, b, x, m, n, k } = workerData;
         let same = true;
         for (let i = 0; i < 40; i++) {
           const product = new Float32Array(m * n), gelu = new Float32Array(x.length);
           addon.sgemm(a, b, product, m, n, k, false, false, 1, 0, 0, null);
           addon.gelu(x, null, gelu, false);
           same = same && Buffer.from(product.buffer).equals(Buffer.from(workerData.product.buffer)) && Buffer.from(gelu.buffer).equals(Buffer.from(workerData.gelu.buffer));
         }
         parentPort.postMessage(same);`,
        { eval: true, workerData: { file, a, b, x, m, n, k, ...expected } },
      );
      const fromWorker = new Promise<boolean>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      let same = true;
      for (let i = 0; i < 40; i++) {
        const product = new Float32Array(m * n);
        const gelu = new Float32Array(x.length);
        addon.sgemm(a, b, product, m, n, k, false, false, 1, 0, 0, null);
        addon.gelu(x, null, gelu, false);
        same = same && Buffer.from(product.buffer).equals(Buffer.from(expected.product.buffer)) && Buffer.from(gelu.buffer).equals(Buffer.from(expected.gelu.buffer));
      }
      expect(same).toBe(true);
      expect(await fromWorker).toBe(true);
      await worker.terminate();
    });
  });

  describe('the addon checks its arguments before touching memory', () => {
    const { addon } = loaded as Exclude<typeof loaded, { missing: string }>;
    it('rejects operands too short for the shapes', () => {
      expect(() => addon.sgemm(new Float32Array(5), new Float32Array(6), new Float32Array(4), 2, 2, 3, false, false, 1, 0, 0, null)).toThrow(/too short/);
      expect(() => addon.layerNorm(new Float32Array(8), new Float32Array(3), new Float32Array(4), 2, 4, 1e-5, new Float32Array(8))).toThrow(/too short/);
      expect(() => addon.softmaxXent(new Float32Array(6), new Int32Array(1), 2, 3, new Float32Array(6), new Float32Array(2), new Float32Array(2), new Float32Array(2))).toThrow(/too short/);
      expect(() => addon.binary(0, new Float32Array(8), new Float32Array(3), new Float32Array(8), 4, false)).toThrow(/too short/);
      expect(() => addon.binary(0, new Float32Array(8), new Float32Array(1), new Float32Array(8), 4, true)).toThrow(/too short/);
      expect(() => addon.binary(0, new Float32Array(8), new Float32Array(4), new Float32Array(8), 3, false)).toThrow(/multiple of period/);
      expect(() => addon.linearXent(new Float32Array(6), new Float32Array(5), new Int32Array(3), 3, 2, 3, 1, new Float32Array(3), new Float32Array(3), null, null)).toThrow(/too short/);
    });
    it('rejects arrays of the wrong type', () => {
      expect(() => addon.softmaxXentGrad(new Float32Array(6), new Float32Array(2), new Float32Array(2) as unknown as Int32Array, new Float32Array(2), 2, 3, new Float32Array(6))).toThrow(/Int32Array/);
      expect(() => addon.setThreads(0)).toThrow(/between 1 and 256/);
      expect(() => addon.dropoutMask(new Int32Array(3), new Float32Array(4), 100, 1)).toThrow(/Int32Array of 4/);
      expect(() => addon.linearXent(new Float32Array(6), new Float32Array(6), new Int32Array(3), 3, 2, 3, 1, new Float32Array(3), new Float32Array(3), new Float32Array(6), null)).toThrow(/both be Float32Arrays/);
    });
  });
}

describe('docs/backends.md', () => {
  // The list is built from an addon; its names and reasons do not depend on one, so a stub serves where none is built.
  const kernels = nativeKernelList({} as NativeAddon);
  const file = path.join(__dirname, '..', '..', '..', 'docs', 'backends.md');
  if (process.env.UPDATE_KERNEL_DOCS === '1') fs.writeFileSync(file, withGeneratedBlock(fs.readFileSync(file, 'utf8'), 'native kernels', kernelTable(kernels)));
  const doc = fs.readFileSync(file, 'utf8');
  const section = doc.slice(doc.indexOf('## The native backend'), doc.indexOf('## Matmul throughput'));

  it('lists the native kernels as registered (rerun with UPDATE_KERNEL_DOCS=1 after changing the list)', () => {
    expect(generatedBlock(section, 'native kernels')).toBe(kernelTable(kernels));
  });

  it.each(kernels.map((k) => [k.kernelName]))('describes the native kernel %s in its "native backend" section', (name) => {
    expect(section).toMatch(new RegExp(`\`${name}\`|\`${name},|, ${name}\``));
  });
});
