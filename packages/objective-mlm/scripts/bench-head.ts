/**
 * Benchmark: the MLM head computed only at the selected positions (ours) against the usual way of
 * projecting every position onto the vocabulary and ignoring label -100 (HF BertForPreTraining),
 * both forward + backward, in the same process on the same backend. Prints ms per step and the
 * ratio ours/peer (below 1 = faster).
 *
 *   node packages/objective-mlm/scripts/run.js bench-head -- [--hidden 256] [--vocab 30522] [--batch 8] [--seq 128] [--steps 5]
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, disposeBatchTensors, initBackend, Rng, type BackbonePlugin, type TokenizerPlugin } from '@pretrain/core';
import { MaskedLanguageModeling } from '@pretrain/objective-mlm';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const hidden = arg('hidden', 256);
  const vocab = arg('vocab', 30522);
  const batchSize = arg('batch', 8);
  const seq = arg('seq', 128);
  const steps = arg('steps', 5);
  const backend = await initBackend();
  const rng = new Rng(0);
  const embeddings = tf.variable(tf.randomNormal([vocab, hidden], 0, 0.02));
  const backbone = {
    info: { attention: 'bidirectional', vocabSize: vocab, hiddenSize: hidden, hiddenAct: 'gelu', layerNormEps: 1e-12, initializerRange: 0.02 },
    inputEmbeddings: () => embeddings,
  } as unknown as BackbonePlugin;
  const tokenizer = { specialTokenIds: () => ({ pad: 0, cls: 101, sep: 102, mask: 103 }), isContinuation: () => false } as unknown as TokenizerPlugin;
  const mlm = new MaskedLanguageModeling();
  mlm.init({ backbone, tokenizer, rng });
  const examples = Array.from({ length: batchSize }, () => ({ inputIds: Int32Array.from({ length: seq }, (_, i) => (i === 0 ? 101 : i === seq - 1 ? 102 : 1000 + rng.int(vocab - 1000))) }));
  const batch = mlm.transformBatch(collate(examples, { padId: 0 }), rng);
  const sequenceOutput = tf.variable(tf.randomNormal([batchSize, seq, hidden]));
  const variables = [sequenceOutput, embeddings, ...mlm.variables().values()];
  const { positions, labels } = mlm.targets(batch);

  const sparse = (tensors: ReturnType<typeof batchToTensors>) => mlm.loss({ sequenceOutput: sequenceOutput as tf.Tensor3D }, tensors).loss;
  const allPositions = Int32Array.from({ length: batchSize * seq }, (_, i) => i);
  const dense = () => {
    // Every position projected (HF's prediction_logits), then the loss over the labelled ones.
    const logits = mlm.logitsAt(sequenceOutput as tf.Tensor3D, allPositions);
    const weights = tf.tensor1d(Float32Array.from(batch.fields.mlmLabels, (l) => (l === -100 ? 0 : 1)));
    const targets = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(batch.fields.mlmLabels, (l) => Math.max(l, 0)), 'int32'), vocab), 'float32');
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    const logProbs = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
    return tf.div(tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(targets, logProbs), -1), weights))), tf.sum(weights)) as tf.Scalar;
  };

  const time = (f: () => tf.Scalar): { ms: number; loss: number } => {
    const tensors = batchToTensors(batch);
    let loss = 0;
    const run = () => tf.tidy(() => {
      const { value, grads } = tf.variableGrads(f, variables);
      Object.values(grads).forEach((g) => g.dataSync());
      loss = value.dataSync()[0];
    });
    run(); // warm-up
    const start = performance.now();
    for (let i = 0; i < steps; i++) run();
    disposeBatchTensors(tensors);
    return { ms: (performance.now() - start) / steps, loss };
  };

  const tensors = batchToTensors(batch);
  const ours = time(() => sparse(tensors));
  const peer = time(dense);
  disposeBatchTensors(tensors);
  console.log(`backend ${backend.name} (${backend.threads} threads); hidden ${hidden}, vocab ${vocab}, batch ${batchSize} x ${seq}, ${positions.length} selected positions (${labels.length / (batchSize * seq) * 100 | 0}%)`);
  console.log(`ours (selected positions only): ${ours.ms.toFixed(1)} ms/step, loss ${ours.loss.toFixed(6)}`);
  console.log(`peer (all positions, HF-style):  ${peer.ms.toFixed(1)} ms/step, loss ${peer.loss.toFixed(6)}`);
  console.log(`ratio ours/peer: ${(ours.ms / peer.ms).toFixed(3)}  (same loss: ${Math.abs(ours.loss - peer.loss) < 1e-4})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
