/**
 * LayerNorm forward + backward on BERT-mini-sized activations: core's fused kernels
 * (PretrainLayerNorm / PretrainLayerNormGrad) vs the same math composed from TF.js ops
 * (layerNormComposed), same process, CPU time.
 * Usage: node tools/bench/run.js layernorm [--rows 2048] [--width 128]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, layerNorm, layerNormComposed } from '@pretrain/core';
import { cpuMs, machineDescription, option } from '../../scripts/bench-utils';

async function main(): Promise<void> {
  const rows = Number(option('rows', '2048'));
  const width = Number(option('width', '128'));
  console.log(`LayerNorm [${rows}, ${width}] forward + backward (dx, dγ, dβ), CPU ms (median of 15) — ${machineDescription()}`);
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend({ backend, log: false });
    const x = tf.randomNormal([rows, width]) as tf.Tensor2D;
    const gamma = tf.randomNormal([width]) as tf.Tensor1D;
    const beta = tf.randomNormal([width]) as tf.Tensor1D;
    const dy = tf.randomNormal([rows, width]);
    const step = (ln: typeof layerNorm) => () =>
      tf.tidy(() => {
        const grads = tf.grads((a, g, b) => tf.sum(tf.mul(ln(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-12), dy)))([x, gamma, beta]);
        grads[0].dataSync();
      });
    const fused = cpuMs(step(layerNorm), 15);
    const composed = cpuMs(step(layerNormComposed), 15);
    console.log(`  ${backend}: fused ${fused.toFixed(2)} ms, composed ${composed.toFixed(2)} ms, fused/composed ${(fused / composed).toFixed(2)}`);
    tf.dispose([x, gamma, beta, dy]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
