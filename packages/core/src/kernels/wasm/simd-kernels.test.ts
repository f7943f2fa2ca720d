/**
 * core's wasm C module (packages/core/wasm/*.c) against the cpu backend, the reference, on random
 * inputs — forward and gradient — through the kernels that use it (kernels/c-pack/ over
 * simd-functions.ts; the cases are shared with backend-native's tests); dropout masks against Rng; the
 * prebuilt module against its sources; its bounds checks.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../../backend';
import { dropout } from '../../nn';
import { replacedKernels, withStockKernels } from '../stock';
import { Rng } from '../../rng';
import { cKernelParityCases, outputsOn, worstRelativeDifference } from '../../testing/c-kernel-parity';
import { KERNELS_SOURCE_SHA256 } from './simd-modules.generated';
import { wasmSimdFunctions } from './simd-functions';
import { simdKernels } from './simd-kernels';
import type { WasmBackendLike } from './types';
import '../../gradients';


const on = (backend: BackendName, fn: () => tf.Tensor | tf.Tensor[]) => outputsOn(backend, fn, 1);

async function wasmVsCpu(fn: () => tf.Tensor | tf.Tensor[], tolerance: number, cpuFn = fn): Promise<void> {
  const reference = await on('cpu', cpuFn);
  const wasm = await on('wasm', fn);
  expect(worstRelativeDifference(wasm, reference)).toBeLessThanOrEqual(tolerance);
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

describe('the C kernels against the cpu backend (core\'s cases, shared with backend-native)', () => {
  it.each(cKernelParityCases(new Rng(11)).map((c) => [c.name, c] as const))('%s', async (_name, parityCase) => {
    await wasmVsCpu(parityCase.build, parityCase.tolerance, parityCase.reference);
  });
});

describe('dropout masks (kernels.c)', () => {
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
