/**
 * Test-only helpers: read an HF fixture (fixtures/hf/<name>) and compare tensors with the
 * numbers HF transformers produced. Nothing here is part of the package's API.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors } from '@pretrain/core';

export const FIXTURES_DIR = path.join(__dirname, '../../../../fixtures/hf');

export interface HfFixture {
  dir: string;
  modelDir: string;
  json: {
    config: Record<string, unknown>;
    inputs: Record<string, number[][]>;
    labels: Record<string, unknown>;
    outputs: Record<string, unknown>;
  };
  /** outputs.safetensors as host arrays. */
  outputs: Map<string, { shape: number[]; data: Float32Array | Int32Array }>;
  /** grads.safetensors (absent for gpt2-generate). */
  grads?: Map<string, { shape: number[]; data: Float32Array }>;
}

export function loadFixture(name: string): HfFixture {
  const dir = path.join(FIXTURES_DIR, name);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'fixture.json'), 'utf8'));
  const read = (file: string) => new Map([...readSafetensors(path.join(dir, file)).tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
  const gradsFile = path.join(dir, 'grads.safetensors');
  return { dir, modelDir: path.join(dir, 'model'), json, outputs: read('outputs.safetensors'), grads: fs.existsSync(gradsFile) ? read('grads.safetensors') : undefined };
}

export function int2d(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
}

/** Largest |a - b| (shapes must agree). */
export function maxAbsDiff(actual: tf.Tensor, expected: { shape: number[]; data: ArrayLike<number> }): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - expected.data[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** Mean cross-entropy over rows whose label is not -100 (torch's CrossEntropyLoss). */
export function crossEntropy(logits2d: tf.Tensor2D, labels: number[]): tf.Scalar {
  const [rows, classes] = logits2d.shape;
  const picks = new Float32Array(rows * classes);
  let count = 0;
  labels.forEach((label, row) => {
    if (label === -100) return;
    picks[row * classes + label] = 1;
    count++;
  });
  // x - logsumexp(x): tf.logSoftmax trips the wasm backend's kernel leak check inside a gradient tape.
  const logProbs = tf.sub(logits2d, tf.logSumExp(logits2d, -1, true));
  return tf.div(tf.neg(tf.sum(tf.mul(logProbs, tf.tensor2d(picks, [rows, classes])))), count) as tf.Scalar;
}
