/**
 * Softmax cross-entropy forward + backward on LM-head-sized logits: core's fused kernels vs the
 * same loss composed from TF.js ops (as the objectives wrote it), same process, CPU time.
 * Usage: node tools/bench/run.js loss [--rows 2032] [--classes 8000]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, softmaxCrossEntropy } from '@pretrain/core';
import { cpuMs, machineDescription, option } from '../../scripts/bench-utils';

function composed(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const target = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]), 'float32');
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  const logProbs = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
  return tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), -1))) as tf.Scalar;
}

async function main(): Promise<void> {
  const rows = Number(option('rows', '2032'));
  const classes = Number(option('classes', '8000'));
  console.log(`softmax cross-entropy [${rows}, ${classes}] forward + backward, CPU ms (median of 5) — ${machineDescription()}`);
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend({ backend, log: false });
    const logits = tf.randomNormal([rows, classes]) as tf.Tensor2D;
    const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes);
    // (Nothing returned from tidy: it would walk a returned typed array element by element.)
    const step = (loss: (x: tf.Tensor2D) => tf.Scalar) => () =>
      tf.tidy(() => {
        tf.grad((x: tf.Tensor) => loss(x as tf.Tensor2D))(logits).dataSync();
      });
    const runs = backend === 'cpu' ? 3 : 5;
    const fused = cpuMs(step((x) => softmaxCrossEntropy(x, labels).loss), runs);
    const stock = cpuMs(step((x) => composed(x, labels)), runs);
    console.log(`  ${backend}: fused ${fused.toFixed(1)} ms, composed ${stock.toFixed(1)} ms, fused/composed ${(fused / stock).toFixed(2)}`);
    logits.dispose();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
