/**
 * Per-kernel time of one cached decoding step and one training-size forward (tf.profile).
 * Usage: node packages/model-gpt/scripts/run.js profile-step
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { Gpt2Model, disposeCache } from '../src';
import { kernelTimes, median, timeRuns } from '../../../tools/scripts/bench-utils';

async function main(): Promise<void> {
  await initBackend();
  const model = new Gpt2Model({ vocab_size: 8000, n_embd: 128, n_layer: 2, n_head: 2, n_positions: 256, bos_token_id: 0, eos_token_id: 0 }, { seed: 1 });
  const wteT = tf.transpose(model.inputEmbeddings()) as tf.Tensor2D;
  const prefill = tf.tidy(() => model.forwardWithCache(tf.zeros([1, 64], 'int32') as tf.Tensor2D));
  prefill.hidden.dispose();
  const step = () => {
    const out = tf.tidy(() => {
      const { hidden, cache } = model.forwardWithCache(tf.tensor2d([[7]], [1, 1], 'int32'), prefill.cache);
      return { logits: model.lmLogits(tf.reshape(hidden, [1, 128]) as tf.Tensor2D, wteT), cache };
    });
    out.logits.dataSync();
    out.logits.dispose();
    disposeCache(out.cache);
  };
  console.log(`cached step: ${median(timeRuns(step, 20, 3)).toFixed(2)} ms`);
  const profile = await tf.profile(step);
  console.log(`kernels: ${profile.kernels.length}`);
  const total = profile.kernels.reduce((a, k) => a + (k.kernelTimeMs as number), 0);
  console.log(`sum of kernel times: ${total.toFixed(2)} ms`);
  for (const k of profile.kernels.filter((k) => k.name === 'BatchMatMul')) console.log(`  BatchMatMul ${k.inputShapes.map((s) => `[${s}]`).join('·')} ${(k.kernelTimeMs as number).toFixed(3)} ms`);
  for (const [name, { ms, count }] of kernelTimes(profile.kernels)) console.log(`  ${name.padEnd(20)} ${count}× ${ms.toFixed(3)} ms`);
  disposeCache(prefill.cache);
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
