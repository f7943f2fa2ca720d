/**
 * Training-step speed through the real plugins on the default backend (issue "Training speed"):
 *   bert-mini: BertModel + MLM (logits at masked positions, tied decoder) + NSP, AdamW
 *   gpt-mini:  Gpt2Model + CLM (every position), AdamW
 *   nanogpt:   nanoGPT's CPU recipe — GPT, 4 layers, 4 heads, width 128, block 64, batch 12, dropout 0,
 *              character vocabulary (65), CLM, AdamW
 * Each step: collate → objectives' transformBatch → forward → objective losses → gradients → AdamW,
 * everything created in the step disposed. Prints ms/step (median), tokens/s, model FLOP/s, the
 * fraction of this process's measured matmul peak, and the PyTorch reference as a ratio.
 * Usage: node tools/bench/run.js train [--config bert-mini,gpt-mini,nanogpt] [--steps N] [--profile] [--threads N]
 * (`--config bert-mini --steps 200` is the memory check: peak RSS and the tensor count after every step.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, disposeBatchTensors, initBackend, Rng, type BackbonePlugin, type Example, type ObjectivePlugin, type TokenizerPlugin } from '@pretrain/core';
import { BertModel } from '@pretrain/model-bert';
import { Gpt2Model } from '@pretrain/model-gpt';
import { MaskedLanguageModeling } from '@pretrain/objective-mlm';
import { NextSentencePrediction } from '@pretrain/objective-nsp';
import { CausalLanguageModeling } from '@pretrain/objective-clm';
import { AdamW } from '@pretrain/trainer';
import { machineDescription, median, option, profileStep, timeSteps } from '../../scripts/bench-utils';
import { medianMs } from './timing';

interface Workload {
  name: string;
  batch: number;
  seq: number;
  vocab: number;
  backbone: BackbonePlugin;
  objectives: ObjectivePlugin[];
  /** Makes one batch of examples (host arrays). */
  examples(rng: Rng): Example[];
  /** Matmul FLOPs of one step (forward + backward). */
  flops: number;
  reference: { ms: number; what: string };
}

/** Just enough tokenizer for the objectives: special ids and no word continuations. */
function tokenizerDouble(vocab: number): TokenizerPlugin {
  const special = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4, eos: 3 };
  return {
    specialTokenIds: () => special,
    getVocabSize: () => vocab,
    isContinuation: () => false,
  } as unknown as TokenizerPlugin;
}

function randomIds(rng: Rng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => 5 + rng.int(vocab - 5));
}

function bertMini(): Workload {
  const c = { vocab: 8000, hidden: 128, layers: 2, heads: 2, ffn: 512, seq: 128, batch: 16 };
  const backbone = new BertModel({ vocab_size: c.vocab, hidden_size: c.hidden, num_hidden_layers: c.layers, num_attention_heads: c.heads, intermediate_size: c.ffn, max_position_embeddings: 512 }, { seed: 1 });
  const tokens = c.batch * c.seq;
  const masked = 0.15 * tokens;
  return {
    name: 'BERT-mini (MLM + NSP)',
    ...c,
    backbone,
    objectives: [new MaskedLanguageModeling(), new NextSentencePrediction()],
    examples: (rng) =>
      Array.from({ length: c.batch }, () => {
        const inputIds = randomIds(rng, c.seq, c.vocab);
        inputIds[0] = 2;
        inputIds[c.seq / 2 - 1] = 3;
        inputIds[c.seq - 1] = 3;
        return {
          inputIds,
          tokenTypeIds: Int32Array.from({ length: c.seq }, (_, i) => (i >= c.seq / 2 ? 1 : 0)),
          specialTokensMask: Uint8Array.from({ length: c.seq }, (_, i) => (i === 0 || i === c.seq / 2 - 1 || i === c.seq - 1 ? 1 : 0)),
          labels: { nextSentenceLabel: rng.int(2) },
        };
      }),
    flops: 6 * tokens * c.layers * (4 * c.hidden * c.hidden + 2 * c.hidden * c.ffn) + 12 * c.layers * tokens * c.seq * c.hidden + 6 * masked * (c.hidden * c.hidden + c.hidden * c.vocab) + 6 * c.batch * c.hidden * c.hidden,
    reference: { ms: 241, what: 'HF BertForPreTraining, PyTorch CPU, 2 threads (403 ms with 1)' },
  };
}

function gpt(name: string, c: { vocab: number; width: number; layers: number; heads: number; block: number; batch: number; dropout: number }, reference: Workload['reference']): Workload {
  const backbone = new Gpt2Model({ vocab_size: c.vocab, n_embd: c.width, n_layer: c.layers, n_head: c.heads, n_positions: Math.max(c.block, 64), n_inner: 4 * c.width, resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout, bos_token_id: 0, eos_token_id: 0 }, { seed: 1 });
  const tokens = c.batch * c.block;
  const predicted = c.batch * (c.block - 1);
  return {
    name,
    batch: c.batch,
    seq: c.block,
    vocab: c.vocab,
    backbone,
    objectives: [new CausalLanguageModeling()],
    examples: (rng) => Array.from({ length: c.batch }, () => ({ inputIds: Int32Array.from({ length: c.block }, () => rng.int(c.vocab)) })),
    flops: 6 * tokens * c.layers * 12 * c.width * c.width + 12 * c.layers * tokens * c.block * c.width + 6 * predicted * c.width * c.vocab,
    reference,
  };
}

const WORKLOADS: Record<string, () => Workload> = {
  'bert-mini': bertMini,
  'gpt-mini': () => gpt('GPT-mini (CLM)', { vocab: 8000, width: 128, layers: 2, heads: 2, block: 128, batch: 16, dropout: 0.1 }, { ms: 348, what: 'HF GPT-2, PyTorch CPU, 2 threads' }),
  nanogpt: () => gpt("nanoGPT's CPU recipe (CLM)", { vocab: 65, width: 128, layers: 4, heads: 4, block: 64, batch: 12, dropout: 0 }, { ms: 64, what: 'nanoGPT, PyTorch CPU, 1 thread (59 ms with 2)' }),
};

function makeStep(w: Workload, seed: number): { step: () => number; dispose: () => void; optimizerMs: number[] } {
  const rng = new Rng(seed);
  const tokenizer = tokenizerDouble(w.vocab);
  for (const objective of w.objectives) objective.init({ backbone: w.backbone, tokenizer, rng });
  const variables = new Map([...w.backbone.variables(), ...w.objectives.flatMap((o) => [...o.variables()])]);
  const list = [...variables.values()];
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  let stepIndex = 0;
  const optimizerMs: number[] = [];
  const step = (): number => {
    let batch = collate(w.examples(rng), { padId: 0 });
    for (const objective of w.objectives) if (objective.transformBatch) batch = objective.transformBatch(batch, rng);
    const tensors = batchToTensors(batch);
    const dropoutSeed = stepIndex++;
    const { value, grads } = tf.variableGrads(() => {
      const output = w.backbone.forward(tensors, { training: true, dropoutSeed });
      return tf.addN(w.objectives.map((o) => o.loss(output, tensors, { training: true }).loss)) as tf.Scalar;
    }, list);
    const named = new Map([...variables].filter(([, v]) => grads[v.name]).map(([name, v]) => [name, grads[v.name]]));
    const t0 = performance.now();
    optimizer.step(variables, named, 1e-4);
    optimizerMs.push(performance.now() - t0);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatchTensors(tensors);
    return loss;
  };
  return { step, dispose: () => tf.dispose(list), optimizerMs };
}

/** Plain 512×512 matmul GFLOP/s in this process: the machine's measured peak for the fraction column. */
function matmulPeak(): number {
  const a = tf.randomNormal([512, 512]);
  const b = tf.randomNormal([512, 512]);
  // Best of many runs: the runs that got a core to themselves.
  const times: number[] = [];
  medianMs(() => {
    const t0 = performance.now();
    tf.matMul(a, b).dataSync();
    times.push(performance.now() - t0);
  }, { budgetMs: 1000, maxRuns: 40 });
  tf.dispose([a, b]);
  return (2 * 512 ** 3) / (Math.min(...times) * 1e6);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const threads = args.includes('--threads') ? Number(option('threads', '1')) : undefined;
  const backend = await initBackend({ threads, log: false });
  const peak = matmulPeak();
  console.log(`machine: ${machineDescription()}; backend ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'}; ${backend.detail}); matmul peak ${peak.toFixed(1)} GFLOP/s (512×512, best run)`);
  for (const key of option('config', 'bert-mini,gpt-mini,nanogpt').split(',')) {
    const make = WORKLOADS[key];
    if (!make) throw new Error(`unknown --config ${key}; known: ${Object.keys(WORKLOADS).join(', ')}`);
    const w = make();
    const { step, dispose, optimizerMs } = makeStep(w, 1);
    const steps = Number(option('steps', key === 'nanogpt' ? '30' : '10'));
    const warmupLosses = [step(), step()];
    const tensorsBefore = tf.memory().numTensors;
    const tensorCounts: number[] = [];
    const timed = timeSteps(step, steps, () => tensorCounts.push(tf.memory().numTensors));
    const losses = [...warmupLosses, ...timed.losses];
    const { times, cpuTimes } = timed;
    const ms = median(times);
    const cpuMs = median(cpuTimes);
    const tokens = w.batch * w.seq;
    const gflops = w.flops / (ms * 1e6);
    console.log(`${w.name}: batch ${w.batch} × seq ${w.seq}, vocab ${w.vocab}`);
    console.log(`  wall: ${ms.toFixed(1)} ms/step (median of ${steps}), ${((tokens / ms) * 1000).toFixed(0)} tokens/s, ${gflops.toFixed(2)} model GFLOP/s = ${((100 * gflops) / peak).toFixed(0)}% of matmul peak`);
    // On a shared machine wall time includes waiting for a core; the process's CPU time does not
    // (with one thread it approximates the wall time of an idle machine).
    console.log(`  cpu:  ${cpuMs.toFixed(1)} ms/step (median), ${((tokens / cpuMs) * 1000).toFixed(0)} tokens per CPU-second, ${(w.flops / (cpuMs * 1e6)).toFixed(2)} model GFLOP per CPU-second = ${((100 * w.flops) / (cpuMs * 1e6) / peak).toFixed(0)}% of matmul peak`);
    console.log(`  vs ${w.reference.what}: ${w.reference.ms} ms/step → ours/PyTorch time ${(ms / w.reference.ms).toFixed(2)}× (wall), ${(cpuMs / w.reference.ms).toFixed(2)}× (cpu)`);
    console.log(`  of which the AdamW update: ${median(optimizerMs).toFixed(1)} ms (median wall), ${w.backbone.variables().size + w.objectives.reduce((n, o) => n + o.variables().size, 0)} parameters`);
    console.log(`  loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}; tensors ${tensorsBefore} before the timed steps, ${Math.min(...tensorCounts)}–${Math.max(...tensorCounts)} after each of ${steps} steps (${tensorCounts.every((n) => n === tensorsBefore) ? 'flat' : 'NOT flat'})`);
    // Peak RSS of the whole process so far (earlier workloads included: run one --config to isolate it).
    console.log(`  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB now, peak ${(process.resourceUsage().maxRSS / 2 ** 10).toFixed(0)} MiB`);
    if (args.includes('--profile')) await profileStep(step);
    dispose();
    w.backbone.dispose();
    w.objectives.forEach((o) => o.dispose());
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
