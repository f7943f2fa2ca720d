/**
 * The README's example: load an HF GPT-2 checkpoint, generate greedily and by sampling, save it.
 * Usage (from the repository root): node packages/model-gpt/scripts/run.js example
 */
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '@pretrain/core';
import { Gpt2Model } from '../src';

async function main(): Promise<void> {
  await initBackend();
  const gpt = Gpt2Model.fromPretrained('fixtures/hf/gpt2/model'); // tiny test checkpoint (vocab 1000)
  const prompt = [562, 676, 138, 765, 791, 509, 560, 108];

  const [greedy] = gpt.generate(prompt, { maxNewTokens: 12, stopTokens: [] });
  console.log('greedy:', greedy.join(' '));

  const [sampled] = gpt.generate(prompt, { maxNewTokens: 12, doSample: true, temperature: 0.8, topK: 50, topP: 0.95, seed: 42 });
  console.log('sampled (seed 42):', sampled.join(' '));

  const dir = path.join(os.tmpdir(), 'pretrain-gpt2-example');
  gpt.savePretrained(dir, { lmHead: true }); // a GPT2LMHeadModel checkpoint (lm_head tied, not stored)
  console.log('saved to', dir);
  gpt.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
