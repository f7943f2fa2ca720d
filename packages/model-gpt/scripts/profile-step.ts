/**
 * Per-kernel time of one cached decoding step (tf.profile) after a 64-token prefill, and its wall time.
 * Usage: node packages/model-gpt/scripts/run.js profile-step
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { Gpt2Model } from '../src';
import { kernelTimes, median, timeRuns } from '../../../tools/scripts/bench-utils';

async function main(): Promise<void> {
  await initBackend();
  const model = new Gpt2Model({ vocab_size: 8000, n_embd: 128, n_layer: 2, n_head: 2, n_positions: 256, bos_token_id: 0, eos_token_id: 0 }, { seed: 1 });
  const wteT = tf.transpose(model.inputEmbeddings()) as tf.Tensor2D;
  const cache = model.createCache(1, 256);
  tf.tidy(() => {
    model.forwardWithCache(tf.zeros([1, 64], 'int32') as tf.Tensor2D, cache);
  });
  // Each step appends one position (64 → 165 over the warm-up, timed and profiled steps); the
  // warm-up lets V8 optimise the host-side attention loops.
  const step = () => {
    const logits = tf.tidy(() => model.lmLogits(tf.reshape(model.forwardWithCache(tf.tensor2d([[7]], [1, 1], 'int32'), cache).hidden, [1, 128]) as tf.Tensor2D, wteT));
    logits.dataSync();
    logits.dispose();
  };
  console.log(`cached step: ${median(timeRuns(step, 50, 50)).toFixed(2)} ms`);
  const profile = await tf.profile(step);
  console.log(`kernels: ${profile.kernels.length}`);
  const total = profile.kernels.reduce((a, k) => a + (k.kernelTimeMs as number), 0);
  console.log(`sum of kernel times: ${total.toFixed(2)} ms`);
  for (const [name, { ms, count }] of kernelTimes(profile.kernels)) console.log(`  ${name.padEnd(20)} ${count}× ${ms.toFixed(3)} ms`);
  cache.clear();
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
