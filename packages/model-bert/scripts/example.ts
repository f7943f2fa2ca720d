/**
 * The README's example: load an HF BERT checkpoint, run it, save it back.
 * Usage (from the repository root): node packages/model-bert/scripts/run.js example
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { BertModel } from '../src';

async function main(): Promise<void> {
  await initBackend();
  // Any HF BERT directory (config.json + model.safetensors); this one is a tiny test checkpoint.
  const bert = BertModel.fromPretrained('fixtures/hf/bert-seqcls/model');
  console.log('load report:', bert.loadReport); // the classifier.* tensors belong to a head: reported, not fatal

  const output = tf.tidy(() => {
    const inputIds = tf.tensor2d([[101, 759, 208, 102]], [1, 4], 'int32');
    const { sequenceOutput, pooledOutput } = bert.forward({ inputIds, attentionMask: tf.onesLike(inputIds) }, { training: false });
    return { sequence: sequenceOutput.shape, pooled: Array.from(pooledOutput!.dataSync().slice(0, 4)) };
  });
  console.log('sequence output shape:', output.sequence, 'pooled[0:4]:', output.pooled);

  const dir = path.join(os.tmpdir(), 'pretrain-bert-example');
  bert.savePretrained(dir); // HF BertModel layout: loads with transformers' BertModel.from_pretrained
  console.log('saved to', dir);
  bert.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
