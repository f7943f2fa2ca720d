/**
 * GPT-2 training-step speed on the default backend: forward, tied-LM-head cross-entropy over every
 * position, backward, Adam update, all inside one tidy per step.
 *   mini:    vocab 8000, width 128, 2 layers, 2 heads, FFN 512, sequence 128, batch 16 (random tokens)
 *   nanogpt: nanoGPT's CPU recipe — 4 layers, 4 heads, width 128, block 64, batch 12, dropout 0,
 *            character vocabulary of tiny-shakespeare (data/tinyshakespeare/input.txt)
 * The reference numbers are PyTorch on this machine kind (issue "Training speed"), printed as ratios.
 * Usage: node packages/model-gpt/scripts/run.js bench-train [--config mini|nanogpt|all] [--steps N]
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@pretrain/core';
import { Gpt2Model } from '../src';
import { crossEntropyWithExplicitGrad, machineDescription, median, option, profileStep, timeSteps } from '../../../tools/scripts/bench-utils';

interface BenchConfig {
  name: string;
  vocab: number;
  width: number;
  layers: number;
  heads: number;
  block: number;
  batch: number;
  steps: number;
  /** PyTorch reference (ms/step) and what it was measured with. */
  reference: { ms: number; what: string };
}

const CONFIGS: Record<string, Omit<BenchConfig, 'vocab'> & { vocab?: number }> = {
  mini: { name: 'GPT-mini', vocab: 8000, width: 128, layers: 2, heads: 2, block: 128, batch: 16, steps: 8, reference: { ms: 348, what: 'HF GPT-2 on PyTorch, 2 threads' } },
  nanogpt: { name: "nanoGPT's CPU recipe", width: 128, layers: 4, heads: 4, block: 64, batch: 12, steps: 30, reference: { ms: 64, what: 'nanoGPT on PyTorch, 1 thread (59 ms with 2)' } },
};

/** Character-level tiny-shakespeare, as nanoGPT's prepare.py encodes it (sorted unique characters). */
function shakespeareChars(): { ids: Int32Array; vocab: number } {
  const file = path.join(__dirname, '../../../../data/tinyshakespeare/input.txt');
  const text = fs.readFileSync(fs.existsSync(file) ? file : path.join(process.cwd(), 'data/tinyshakespeare/input.txt'), 'utf8');
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  return { ids: Int32Array.from(text, (c) => index.get(c)!), vocab: chars.length };
}

/** Position t predicts token t+1, with the LM head tied to wte. */
function clmLoss(model: Gpt2Model, inputs: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const [batch, seq] = inputs.shape;
  const hidden = tf.reshape(model.forward({ inputIds: inputs }, { training: true, dropoutSeed: 0 }).sequenceOutput, [batch * seq, model.config.n_embd]) as tf.Tensor2D;
  const logits = model.lmLogits(hidden, tf.transpose(model.inputEmbeddings()) as tf.Tensor2D);
  return crossEntropyWithExplicitGrad(logits, targets);
}

function batchFrom(data: Int32Array | null, vocab: number, batch: number, block: number, rng: Rng) {
  const inputs = new Int32Array(batch * block);
  const targets = new Int32Array(batch * block);
  for (let b = 0; b < batch; b++) {
    if (data) {
      const start = rng.int(data.length - block - 1);
      inputs.set(data.subarray(start, start + block), b * block);
      targets.set(data.subarray(start + 1, start + block + 1), b * block);
    } else {
      for (let t = 0; t <= block; t++) {
        const token = rng.int(vocab);
        if (t < block) inputs[b * block + t] = token;
        if (t > 0) targets[b * block + t - 1] = token;
      }
    }
  }
  return { inputs, targets };
}

function modelFlopsPerStep(c: BenchConfig): number {
  const perLayer = 12 * c.width * c.width; // c_attn 3h², c_proj h², c_fc + c_proj 8h²
  const tokens = c.batch * c.block;
  const dense = 6 * tokens * (c.layers * perLayer + c.width * c.vocab);
  const attention = 12 * c.layers * tokens * c.block * c.width; // q·kᵀ and p·v, forward + backward
  return dense + attention;
}

async function runConfig(key: string, stepsOverride: number | undefined): Promise<void> {
  const base = CONFIGS[key];
  const text = key === 'nanogpt' ? shakespeareChars() : null;
  const c: BenchConfig = { ...base, vocab: text?.vocab ?? base.vocab!, steps: stepsOverride ?? base.steps };
  const dropout = 0;
  const model = new Gpt2Model(
    { vocab_size: c.vocab, n_embd: c.width, n_layer: c.layers, n_head: c.heads, n_positions: c.block, resid_pdrop: dropout, embd_pdrop: dropout, attn_pdrop: dropout, bos_token_id: 0, eos_token_id: 0 },
    { seed: 1337 },
  );
  const optimizer = tf.train.adam(1e-3, 0.9, 0.99);
  const variables = [...model.variables().values()];
  const rng = new Rng(1);
  const step = (): number => {
    const { inputs, targets } = batchFrom(text?.ids ?? null, c.vocab, c.batch, c.block, rng);
    const loss = tf.tidy(() => {
      const x = tf.tensor2d(inputs, [c.batch, c.block], 'int32');
      const y = tf.tensor1d(targets, 'int32');
      return optimizer.minimize(() => clmLoss(model, x, y), true, variables)!;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  const warmup = 2;
  const losses: number[] = [];
  for (let i = 0; i < warmup; i++) losses.push(step());
  const tensorsBefore = tf.memory().numTensors;
  const { losses: timedLosses, times, cpuTimes } = timeSteps(step, c.steps);
  losses.push(...timedLosses);
  if (process.argv.includes('--profile')) await profileStep(step);
  const ms = median(times);
  const tokens = c.batch * c.block;
  const flops = modelFlopsPerStep(c);
  console.log(`${c.name}: vocab ${c.vocab}, width ${c.width}, ${c.layers} layers, ${c.heads} heads, block ${c.block}, batch ${c.batch}`);
  console.log(`  ${ms.toFixed(1)} ms/step (median of ${c.steps} after ${warmup} warm-up), ${((tokens / ms) * 1000).toFixed(0)} tokens/s, ~${(flops / (ms * 1e6)).toFixed(1)} model GFLOP/s`);
  // On a busy machine wall time includes waiting for a core; process CPU time per step does not.
  const cpuMs = median(cpuTimes);
  console.log(`  process CPU time: ${cpuMs.toFixed(1)} ms/step (all threads), ~${(flops / (cpuMs * 1e6)).toFixed(1)} model GFLOP per CPU-second`);
  console.log(`  loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}; tensors ${tensorsBefore} → ${tf.memory().numTensors}`);
  console.log(`  vs ${c.reference.what} at ${c.reference.ms} ms/step: ${(ms / c.reference.ms).toFixed(2)}× its time`);
  optimizer.dispose();
  model.dispose();
}

async function main(): Promise<void> {
  const backend = await initBackend();
  console.log(`machine: ${machineDescription()}; backend ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'})`);
  const which = option('config', 'all');
  const steps = option('steps', '');
  for (const key of which === 'all' ? Object.keys(CONFIGS) : which.split(',')) {
    if (!CONFIGS[key]) throw new Error(`unknown --config ${key} (mini, nanogpt, all)`);
    await runConfig(key, steps ? Number(steps) : undefined);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
