/**
 * BERT training-step speed on the default backend: BERT-mini (vocab 8000, hidden 128, 2 layers,
 * 2 heads, FFN 512, sequence 128, batch 16) with MLM (15% of positions, logits only at masked
 * positions, decoder tied to the word embeddings) + NSP, Adam, one tidy per step, random tokens.
 * The reference is HF BertForPreTraining on PyTorch on this machine kind (issue "Training speed").
 * Usage: node packages/model-bert/scripts/run.js bench-train [--steps N] [--profile]
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@pretrain/core';
import { BertModel, dense, geluErf, layerNorm } from '../src';
import { crossEntropyWithExplicitGrad, machineDescription, median, option, profileStep, timeSteps } from '../../../tools/scripts/bench-utils';

const C = { vocab: 8000, hidden: 128, layers: 2, heads: 2, ffn: 512, seq: 128, batch: 16 };
const REFERENCE = { ms: 241, what: 'HF BertForPreTraining on PyTorch, 2 threads (8,480 tokens/s; 403 ms with 1 thread)' };

/** The pre-training heads (as HF's BertPreTrainingHeads), sized for the bench; weights [in, out]. */
function makeHeads(rng: Rng) {
  const normal = (rows: number, cols: number) => tf.variable(tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal() * 0.02), [rows, cols]));
  const vector = (t: tf.Tensor1D) => tf.variable(t);
  return {
    transformWeight: normal(C.hidden, C.hidden),
    transformBias: vector(tf.zeros([C.hidden])),
    normWeight: vector(tf.ones([C.hidden])),
    normBias: vector(tf.zeros([C.hidden])),
    decoderBias: vector(tf.zeros([C.vocab])),
    nspWeight: normal(C.hidden, 2),
    nspBias: vector(tf.zeros([2])),
  };
}

interface HostBatch {
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  maskedPositions: Int32Array;
  maskedLabels: Int32Array;
  nextSentence: Int32Array;
}

function randomBatch(rng: Rng): HostBatch {
  const n = C.batch * C.seq;
  const inputIds = Int32Array.from({ length: n }, () => 5 + rng.int(C.vocab - 5));
  const tokenTypeIds = Int32Array.from({ length: n }, (_, i) => (i % C.seq >= C.seq / 2 ? 1 : 0));
  const positions: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    if (rng.float() < 0.15) {
      positions.push(i);
      labels.push(inputIds[i]);
      inputIds[i] = 4; // [MASK]
    }
  }
  const nextSentence = Int32Array.from({ length: C.batch }, () => rng.int(2));
  return { inputIds, tokenTypeIds, maskedPositions: Int32Array.from(positions), maskedLabels: Int32Array.from(labels), nextSentence };
}

function pretrainingLoss(model: BertModel, heads: ReturnType<typeof makeHeads>, b: HostBatch): tf.Scalar {
  const output = model.forward(
    { inputIds: tf.tensor2d(b.inputIds, [C.batch, C.seq], 'int32'), tokenTypeIds: tf.tensor2d(b.tokenTypeIds, [C.batch, C.seq], 'int32'), attentionMask: tf.ones([C.batch, C.seq], 'int32') as tf.Tensor2D },
    { training: true, dropoutSeed: 1 },
  );
  const flat = tf.reshape(output.sequenceOutput, [C.batch * C.seq, C.hidden]) as tf.Tensor2D;
  const masked = tf.gather(flat, tf.tensor1d(b.maskedPositions, 'int32'));
  const transformed = layerNorm(geluErf(dense(masked, heads.transformWeight, heads.transformBias)), heads.normWeight, heads.normBias, 1e-12);
  const mlmLogits = tf.add(tf.matMul(transformed, tf.transpose(model.inputEmbeddings())), heads.decoderBias) as tf.Tensor2D;
  const mlm = crossEntropyWithExplicitGrad(mlmLogits, tf.tensor1d(b.maskedLabels, 'int32'));
  const nsp = crossEntropyWithExplicitGrad(dense(output.pooledOutput!, heads.nspWeight, heads.nspBias), tf.tensor1d(b.nextSentence, 'int32'));
  return tf.add(mlm, nsp) as tf.Scalar;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  console.log(`machine: ${machineDescription()}; backend ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'})`);
  const steps = Number(option('steps', '8'));
  const rng = new Rng(1);
  const model = new BertModel(
    { vocab_size: C.vocab, hidden_size: C.hidden, num_hidden_layers: C.layers, num_attention_heads: C.heads, intermediate_size: C.ffn, max_position_embeddings: 512 },
    { seed: 1 },
  );
  const heads = makeHeads(rng);
  const variables = [...model.variables().values(), ...Object.values(heads)];
  const optimizer = tf.train.adam(1e-4);
  const step = (): number => {
    const batch = randomBatch(rng);
    const loss = tf.tidy(() => optimizer.minimize(() => pretrainingLoss(model, heads, batch), true, variables)!);
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  const losses = [step(), step()];
  const tensorsBefore = tf.memory().numTensors;
  const { losses: timedLosses, times, cpuTimes } = timeSteps(step, steps);
  losses.push(...timedLosses);
  if (process.argv.includes('--profile')) await profileStep(step);
  const ms = median(times);
  const tokens = C.batch * C.seq;
  console.log(`BERT-mini (MLM at masked positions + NSP): vocab ${C.vocab}, hidden ${C.hidden}, ${C.layers} layers, ${C.heads} heads, FFN ${C.ffn}, seq ${C.seq}, batch ${C.batch}`);
  console.log(`  ${ms.toFixed(1)} ms/step (median of ${steps} after 2 warm-up), ${((tokens / ms) * 1000).toFixed(0)} tokens/s`);
  // On a busy machine wall time includes waiting for a core; process CPU time per step does not.
  console.log(`  process CPU time: ${median(cpuTimes).toFixed(1)} ms/step (all threads)`);
  console.log(`  loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}; tensors ${tensorsBefore} → ${tf.memory().numTensors}`);
  console.log(`  vs ${REFERENCE.what} at ${REFERENCE.ms} ms/step: ${(ms / REFERENCE.ms).toFixed(2)}× its time`);
  optimizer.dispose();
  model.dispose();
  Object.values(heads).forEach((v) => v.dispose());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
