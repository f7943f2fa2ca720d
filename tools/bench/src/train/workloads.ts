/**
 * The bench's three training workloads through the real plugins (collate → objectives'
 * transformBatch → forward → objective losses → gradients → the trainer's AdamW), everything created
 * in a step disposed. tools/bench/peer/train_peer.py is the same three in plain PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, disposeBatchTensors, Rng, type BackbonePlugin, type Example, type ObjectivePlugin, type TokenizerPlugin } from '@pretrain/core';
import { BertModel } from '@pretrain/model-bert';
import { Gpt2Model } from '@pretrain/model-gpt';
import { MaskedLanguageModeling } from '@pretrain/objective-mlm';
import { NextSentencePrediction } from '@pretrain/objective-nsp';
import { CausalLanguageModeling } from '@pretrain/objective-clm';
import { AdamW } from '@pretrain/trainer';

export interface Workload {
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

function bertMini(batch = 16): Workload {
  const c = { vocab: 8000, hidden: 128, layers: 2, heads: 2, ffn: 512, seq: 128, batch };
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
  };
}

function gpt(name: string, c: { vocab: number; width: number; layers: number; heads: number; block: number; batch: number; dropout: number }): Workload {
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
  };
}

/** The three workloads; `batch` overrides the batch size (the bench's --batch, for experiments such as half batches per data-parallel worker). */
export const WORKLOADS: Record<string, (batch?: number) => Workload> = {
  'bert-mini': (batch) => bertMini(batch),
  'gpt-mini': (batch = 16) => gpt('GPT-mini (CLM)', { vocab: 8000, width: 128, layers: 2, heads: 2, block: 128, batch, dropout: 0.1 }),
  nanogpt: (batch = 12) => gpt("nanoGPT's CPU recipe (CLM)", { vocab: 65, width: 128, layers: 4, heads: 4, block: 64, batch, dropout: 0 }),
};

export function makeStep(w: Workload, seed: number): { step: () => number; dispose: () => void; optimizerMs: number[] } {
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
