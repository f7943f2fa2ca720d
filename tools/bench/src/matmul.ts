/**
 * Matmul GFLOP/s per backend, our kernels vs TF.js's stock kernels in the same process.
 * Usage: node tools/bench/run.js matmul [--backends wasm,cpu] [--size 512] [--threads N]
 * (the wasm backend loads once per process: compare thread counts with separate runs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, withStockKernels, type BackendName } from '@pretrain/core';
import { machineDescription, option } from '../../scripts/bench-utils';
import { medianMs } from './timing';

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

function cases(size: number): Case[] {
  return [
    { name: `${size}×${size} A·B`, a: [size, size], b: [size, size], transposeA: false, transposeB: false },
    { name: `${size}×${size} A·Bᵀ`, a: [size, size], b: [size, size], transposeA: false, transposeB: true },
    { name: `${size}×${size} Aᵀ·B`, a: [size, size], b: [size, size], transposeA: true, transposeB: false },
    { name: `batched 8×(${size / 2}×${size / 4})·(${size / 4}×${size / 2})`, a: [8, size / 2, size / 4], b: [8, size / 4, size / 2], transposeA: false, transposeB: false },
    { name: `batched attention 32×(128×64)·(128×64)ᵀ`, a: [32, 128, 64], b: [32, 128, 64], transposeA: false, transposeB: true },
    { name: `dense [16,128,128]·[128,512]`, a: [16, 128, 128], b: [128, 512], transposeA: false, transposeB: false },
  ];
}

function flopsOf(c: Case): number {
  const m = c.transposeA ? c.a[c.a.length - 1] : c.a[c.a.length - 2];
  const k = c.transposeA ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
  const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
  const batch = Math.max(c.a.slice(0, -2).reduce((x, y) => x * y, 1), c.b.slice(0, -2).reduce((x, y) => x * y, 1));
  return 2 * batch * m * n * k;
}

function gflops(c: Case, stock: boolean, budgetMs: number): number {
  const a = tf.randomNormal(c.a);
  const b = tf.randomNormal(c.b);
  const run = () => tf.matMul(a, b, c.transposeA, c.transposeB).dispose();
  const ms = stock ? withStockKernels(() => medianMs(run, { budgetMs, maxRuns: 20, minRuns: 2, warmup: 1 })) : medianMs(run, { budgetMs, maxRuns: 20, minRuns: 2, warmup: 1 });
  tf.dispose([a, b]);
  return flopsOf(c) / (ms * 1e6);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const backends = option('backends', 'wasm,cpu').split(',') as BackendName[];
  const size = Number(option('size', '512'));
  const threads = args.includes('--threads') ? Number(option('threads', '1')) : undefined;
  console.log(`matmul GFLOP/s — ${machineDescription()}`);
  console.log('| backend | product | ours GFLOP/s | stock GFLOP/s | ours/stock |');
  console.log('|---|---|---:|---:|---:|');
  for (const backend of backends) {
    const info = await initBackend({ backend, log: false, threads });
    console.log(`<!-- ${backend}: ${info.threads} thread(s), ${info.detail} -->`);
    const budget = backend === 'cpu' ? 1200 : 800;
    for (const c of cases(size)) {
      const ours = gflops(c, false, budget);
      const stock = gflops(c, true, budget);
      console.log(`| ${backend} (${info.threads} thr) | ${c.name} | ${ours.toFixed(2)} | ${stock.toFixed(2)} | ${(ours / stock).toFixed(2)} |`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
