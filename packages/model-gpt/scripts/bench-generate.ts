/**
 * KV cache vs recomputing the prefix: greedy generation of 64 new tokens with GPT-2 "mini"
 * (vocab 8000, width 128, 2 layers, 2 heads) after a 64-token prompt, both paths in this process.
 * Prints ms per run and the ratio (recompute / cache); the outputs must be identical.
 * Usage: node packages/model-gpt/scripts/run.js bench-generate [--new 64] [--prompt 64] [--runs 3]
 */
import { Rng, initBackend } from '@pretrain/core';
import { Gpt2Model } from '../src';
import { machineDescription, median, option, timeRuns } from './timing';

async function main(): Promise<void> {
  const backend = await initBackend();
  const newTokens = Number(option('new', '64'));
  const promptLength = Number(option('prompt', '64'));
  const runs = Number(option('runs', '3'));
  const model = new Gpt2Model({ vocab_size: 8000, n_embd: 128, n_layer: 2, n_head: 2, n_positions: 256, bos_token_id: 0, eos_token_id: 0 }, { seed: 1 });
  const rng = new Rng(5);
  const prompt = Array.from({ length: promptLength }, () => rng.int(8000));
  const generate = (useCache: boolean) => model.generate(prompt, { maxNewTokens: newTokens, stopTokens: [], useCache })[0];

  const cached = generate(true);
  const recomputed = generate(false);
  if (cached.join() !== recomputed.join()) throw new Error('cached and recomputed generations differ');
  const cacheMs = median(timeRuns(() => generate(true), runs));
  const recomputeMs = median(timeRuns(() => generate(false), runs));
  console.log(`machine: ${machineDescription()}; backend ${backend.name}`);
  console.log(`GPT-2 mini, prompt ${promptLength}, ${newTokens} new tokens (greedy), median of ${runs}`);
  console.log(`  with KV cache:      ${cacheMs.toFixed(1)} ms  (${((newTokens / cacheMs) * 1000).toFixed(0)} tokens/s)`);
  console.log(`  recomputing prefix: ${recomputeMs.toFixed(1)} ms  (${((newTokens / recomputeMs) * 1000).toFixed(0)} tokens/s)`);
  console.log(`  speed-up (recompute / cache): ${(recomputeMs / cacheMs).toFixed(1)}×`);
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
