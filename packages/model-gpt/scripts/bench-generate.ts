/**
 * KV cache vs recomputing the prefix: greedy generation of 64 new tokens with GPT-2 "mini"
 * (vocab 8000, width 128, 2 layers, 2 heads) after 64- and 128-token prompts, both paths in this
 * process, runs interleaved. Prints ms per run and the ratio (recompute / cache); the generated
 * tokens of both paths must be identical.
 * Usage: node packages/model-gpt/scripts/run.js bench-generate [--new 64] [--prompt 64,128] [--runs 5]
 */
import { Rng, initBackend } from '@pretrain/core';
import { Gpt2Model } from '../src';
import { machineDescription, median, option, timeRuns } from '../../../tools/scripts/bench-utils';

async function main(): Promise<void> {
  const backend = await initBackend();
  const newTokens = Number(option('new', '64'));
  const promptLengths = option('prompt', '64,128').split(',').map(Number);
  const runs = Number(option('runs', '5'));
  const model = new Gpt2Model({ vocab_size: 8000, n_embd: 128, n_layer: 2, n_head: 2, n_positions: 256, bos_token_id: 0, eos_token_id: 0 }, { seed: 1 });
  console.log(`machine: ${machineDescription()}; backend ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'})`);
  for (const promptLength of promptLengths) {
    const rng = new Rng(5);
    const prompt = Array.from({ length: promptLength }, () => rng.int(8000));
    const generate = (useCache: boolean) => model.generate(prompt, { maxNewTokens: newTokens, stopTokens: [], useCache })[0];
    if (generate(true).join() !== generate(false).join()) throw new Error('cached and recomputed generations differ');
    const cacheTimes: number[] = [];
    const recomputeTimes: number[] = [];
    // Interleaved, so a change in machine load hits both paths alike.
    for (let i = 0; i < runs; i++) {
      cacheTimes.push(...timeRuns(() => generate(true), 1, 0));
      recomputeTimes.push(...timeRuns(() => generate(false), 1, 0));
    }
    const cacheMs = median(cacheTimes);
    const recomputeMs = median(recomputeTimes);
    console.log(`GPT-2 mini, prompt ${promptLength}, ${newTokens} new tokens (greedy), median of ${runs}`);
    console.log(`  with KV cache:      ${cacheMs.toFixed(1)} ms  (${((newTokens / cacheMs) * 1000).toFixed(0)} tokens/s)`);
    console.log(`  recomputing prefix: ${recomputeMs.toFixed(1)} ms  (${((newTokens / recomputeMs) * 1000).toFixed(0)} tokens/s)`);
    console.log(`  speed-up (recompute / cache): ${(recomputeMs / cacheMs).toFixed(1)}×`);
  }
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
