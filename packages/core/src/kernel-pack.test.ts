/**
 * Kernel packs through initBackend, with packs written here (the real one is @pretrain/backend-native):
 * a pack that cannot load makes backend "native" fail with its reason and shows up on the wasm line; a
 * pack that loads is installed over wasm's kernels, sees every product, falls back to the previous kernel,
 * and comes off with withStockKernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, currentBackend } from './backend';
import { kernelPackAvailable, registerKernelPack, type KernelPack, type PackKernelFn } from './kernel-pack';
import { replacedKernels, withStockKernels } from './kernels/stock';

afterAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

describe('kernel packs', () => {
  it('backend "native" without a registered pack names the package to install', async () => {
    await expect(initBackend({ backend: 'native', log: false })).rejects.toThrow(/needs @pretrain\/backend-native/);
  });

  it('a pack that cannot load: native fails with its reason, and the wasm line says why it is not used', async () => {
    const missing: KernelPack = { name: 'native', base: 'wasm', load: () => ({ missing: 'no binary for this test' }) };
    registerKernelPack(missing);
    expect(kernelPackAvailable('native')).toBe(false);
    await expect(initBackend({ backend: 'native', log: false })).rejects.toThrow('backend "native" is not available here: no binary for this test');
    const wasm = await initBackend({ backend: 'wasm', log: false });
    expect(wasm.detail).toContain('native kernels unavailable: no binary for this test');
  });

  it('a pack that loads replaces the kernels it lists over wasm, calls through to the previous one, and sizes its threads', async () => {
    const calls: string[] = [];
    let threads = 0;
    const counting: KernelPack = {
      name: 'native',
      base: 'wasm',
      load: () => ({
        detail: 'a counting pack',
        setThreads: (n) => (threads = n),
        kernels: [{ kernelName: tf.BatchMatMul, why: 'counts', make: (previous: PackKernelFn): PackKernelFn => (args) => (calls.push('BatchMatMul'), previous(args)) }],
      }),
    };
    registerKernelPack(counting);
    const info = await initBackend({ backend: 'native', threads: 3, log: false });
    expect(info).toEqual({ name: 'native', threads: 3, precision: 'float32', detail: expect.stringMatching(/^a counting pack; wasm .* for the rest$/) });
    expect(currentBackend()?.name).toBe('native');
    expect(tf.getBackend()).toBe('wasm');
    expect(threads).toBe(3);
    const product = tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), false, true).dataSync()));
    expect(product).toEqual([17, 23, 39, 53]);
    expect(calls).toEqual(['BatchMatMul']);
    expect(replacedKernels()).toContain('BatchMatMul@wasm (native)');
    // withStockKernels takes the pack's kernel off too (TF.js's own runs), then puts it back.
    withStockKernels(() => tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync()));
    expect(calls).toEqual(['BatchMatMul']);
    tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
    expect(calls).toEqual(['BatchMatMul', 'BatchMatMul']);
  });

  it('a pack cannot be swapped once installed', () => {
    expect(() => registerKernelPack({ name: 'native', base: 'wasm', load: () => ({ missing: 'late' }) })).toThrow(/already installed/);
  });
});
