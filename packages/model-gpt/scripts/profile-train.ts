/**
 * Kernel counts and times of one GPT-mini forward + backward (no optimizer), by kernel name.
 * Usage: node packages/model-gpt/scripts/run.js profile-train [--batch 16] [--block 128]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { Gpt2Model } from '../src';
import { kernelTimes, option } from '../../../tools/scripts/bench-utils';

async function main(): Promise<void> {
  await initBackend();
  const batch = Number(option('batch', '16'));
  const block = Number(option('block', '128'));
  const model = new Gpt2Model({ vocab_size: 8000, n_embd: 128, n_layer: 2, n_head: 2, n_positions: block, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, bos_token_id: 0, eos_token_id: 0 }, { seed: 1 });
  const ids = tf.randomUniform([batch, block], 0, 8000, 'int32') as tf.Tensor2D;
  const vars = [...model.variables().values()];
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward({ inputIds: ids }, { training: true }).sequenceOutput)) as tf.Scalar, vars);
      return Object.values(grads)[0];
    }).dispose();
  step();
  const profile = await tf.profile(step);
  console.log(`backbone forward + backward: ${profile.kernels.length} kernels`);
  for (const [name, { ms, count }] of kernelTimes(profile.kernels)) console.log(`  ${name.padEnd(22)} ${String(count).padStart(4)}× ${ms.toFixed(1)} ms`);
  if (process.argv.includes('--list')) for (const k of profile.kernels) console.log(`  ${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')} → [${k.outputShapes.join('] [')}] ${(k.kernelTimeMs as number).toFixed(2)} ms`);
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
