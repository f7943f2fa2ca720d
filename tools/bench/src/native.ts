/**
 * @pretrain/backend-native (OpenBLAS matmuls, C LayerNorm and loss) under the wasm backend vs core's wasm kernels, same
 * process, CPU time (robust to other jobs on the machine), 1 thread each:
 *   1. parity of the native kernels with core's on the product shapes the models use;
 *   2. GFLOP/s per product shape, native vs wasm, alternating;
 *   3. whole training steps with the native kernels installed vs not, alternating blocks.
 * Usage: node tools/bench/run.js native [--config bert-mini,gpt-mini,nanogpt] [--blocks 4] [--threads 1]
 * Without a C compiler, Node-API headers, cblas.h or libopenblas it prints why and exits 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { machineDescription, median, option } from '../../scripts/bench-utils';
import { installNativeMatMul, loadGemm, uninstallNativeMatMul, type Gemm } from './native/addon';
import { makeStep, WORKLOADS } from './train/workloads';

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: boolean;
}

const CASES: Case[] = [
  { name: '512×512 A·B', a: [512, 512], b: [512, 512] },
  { name: '512×512 A·Bᵀ', a: [512, 512], b: [512, 512], transposeB: true },
  { name: '512×512 Aᵀ·B', a: [512, 512], b: [512, 512], transposeA: true },
  { name: 'dense fwd [2048,128]·[128,512] + bias', a: [2048, 128], b: [128, 512], bias: true },
  { name: 'dense dx [2048,512]·[128,512]ᵀ', a: [2048, 512], b: [128, 512], transposeB: true },
  { name: 'dense dW [2048,128]ᵀ·[2048,512]', a: [2048, 128], b: [2048, 512], transposeA: true },
  { name: 'MLM decoder [301,128]·[8000,128]ᵀ', a: [301, 128], b: [8000, 128], transposeB: true },
  { name: 'LM head dW [2032,8000]ᵀ·[2032,128]', a: [2032, 8000], b: [2032, 128], transposeA: true },
  { name: 'attention [16,2,128,64]·[16,2,64,128]', a: [16, 2, 128, 64], b: [16, 2, 64, 128] },
  { name: 'batched dense [16,128,128]·[128,512]', a: [16, 128, 128], b: [128, 512] },
];

function flops(c: Case): number {
  const m = c.transposeA ? c.a[c.a.length - 1] : c.a[c.a.length - 2];
  const k = c.transposeA ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
  const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
  const batch = Math.max(c.a.slice(0, -2).reduce((p, d) => p * d, 1), c.b.slice(0, -2).reduce((p, d) => p * d, 1));
  return 2 * batch * m * n * k;
}

function product(c: Case, a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  return c.bias ? tf.fused.matMul({ a, b, bias, transposeA: c.transposeA, transposeB: c.transposeB }) : tf.matMul(a, b, c.transposeA, c.transposeB);
}

function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000;
}

function products(gemm: Gemm, threads: number): void {
  console.log('\n| product | wasm (core, XNNPACK) GFLOP/s | native (OpenBLAS) GFLOP/s | native/wasm | max |native − wasm| / max |wasm| |');
  console.log('|---|---:|---:|---:|---:|');
  for (const c of CASES) {
    const a = tf.randomNormal(c.a);
    const b = tf.randomNormal(c.b);
    const bias = c.bias ? tf.randomNormal([c.b[c.b.length - 1]]) : undefined;
    // (Nothing returned from tidy: it would walk a returned typed array element by element.)
    const run = () =>
      tf.tidy(() => {
        product(c, a, b, bias).dataSync();
      });
    const reference = tf.tidy(() => product(c, a, b, bias));
    installNativeMatMul(gemm, threads);
    const native = tf.tidy(() => product(c, a, b, bias));
    const error = tf.tidy(() => tf.max(tf.abs(tf.sub(native, reference))).dataSync()[0] / tf.max(tf.abs(reference)).dataSync()[0]);
    uninstallNativeMatMul();
    const times = { wasm: [] as number[], native: [] as number[] };
    for (let i = 0; i < 8; i++) {
      times.wasm.push(cpuMs(run));
      installNativeMatMul(gemm, threads);
      times.native.push(cpuMs(run));
      uninstallNativeMatMul();
    }
    const wasm = flops(c) / (median(times.wasm.slice(1)) * 1e6);
    const nat = flops(c) / (median(times.native.slice(1)) * 1e6);
    console.log(`| ${c.name} | ${wasm.toFixed(1)} | ${nat.toFixed(1)} | ${(nat / wasm).toFixed(2)}× | ${error.toExponential(1)} |`);
    tf.dispose([a, b, reference, native, ...(bias ? [bias] : [])]);
  }
}

function steps(gemm: Gemm, threads: number): void {
  const blocks = Number(option('blocks', '4'));
  console.log(`\nwhole training steps, ${blocks} alternating blocks each, CPU ms/step (median), wasm backend with core's kernels vs backend-native's (all of them)`);
  console.log('| workload | wasm CPU ms | wasm + native kernels CPU ms | native/wasm | loss wasm → native (last step) |');
  console.log('|---|---:|---:|---:|---|');
  for (const key of option('config', 'bert-mini,gpt-mini,nanogpt').split(',')) {
    const w = WORKLOADS[key]();
    const { step, dispose } = makeStep(w, 1);
    const per = key === 'nanogpt' ? 6 : 2;
    step();
    step();
    const times = { wasm: [] as number[], native: [] as number[] };
    const losses = { wasm: NaN, native: NaN };
    for (let b = 0; b < blocks; b++) {
      for (const mode of b % 2 === 0 ? (['wasm', 'native'] as const) : (['native', 'wasm'] as const)) {
        if (mode === 'native') installNativeMatMul(gemm, threads);
        for (let i = 0; i < per; i++) times[mode].push(cpuMs(() => (losses[mode] = step())));
        uninstallNativeMatMul();
      }
    }
    const [wasm, nat] = [median(times.wasm), median(times.native)];
    console.log(`| ${key} | ${wasm.toFixed(0)} | ${nat.toFixed(0)} | ${(nat / wasm).toFixed(2)}× | ${losses.wasm.toFixed(4)} / ${losses.native.toFixed(4)} |`);
    dispose();
    w.backbone.dispose();
    w.objectives.forEach((o) => o.dispose());
  }
}

async function main(): Promise<void> {
  const threads = Number(option('threads', '1'));
  const loaded = loadGemm();
  console.log(`@pretrain/backend-native vs core's wasm kernels — ${machineDescription()}`);
  if ('missing' in loaded) {
    console.log(`backend-native not available: ${loaded.missing}. Nothing to compare (wasm stays the backend).`);
    return;
  }
  // The single-threaded wasm build: its heap is a plain ArrayBuffer the addon can write into.
  const info = await initBackend({ backend: 'wasm', threads: 1, log: false });
  loaded.gemm.setThreads(threads);
  console.log(`wasm: ${info.threads} thread (${info.detail}); OpenBLAS: ${loaded.gemm.threads()} thread(s); times are CPU time`);
  if (!process.argv.includes('--no-products')) products(loaded.gemm, threads);
  if (!process.argv.includes('--no-steps')) steps(loaded.gemm, threads);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
