/**
 * Test-only helpers: read an HF fixture (fixtures/hf/<name>) and compare tensors with the numbers
 * HF transformers produced.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../contract';
import { readSafetensors, type SafetensorsTensor } from '../safetensors';

/** The repository's fixtures/hf folder (the path holds from both src/testing and dist/testing). */
export const HF_FIXTURES_DIR = path.join(__dirname, '../../../../fixtures/hf');

/** A tensor read into host memory. */
export interface HostTensor {
  shape: number[];
  data: ArrayLike<number>;
}

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

/** Loads fixtures/hf/<name> (or an absolute fixture folder): fixture.json, outputs and grads as host arrays. */
export function loadHfFixture(nameOrDir: string): HfFixture {
  const dir = path.resolve(HF_FIXTURES_DIR, nameOrDir);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'fixture.json'), 'utf8'));
  const read = (file: string) => new Map([...readSafetensors(path.join(dir, file)).tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
  const gradsFile = path.join(dir, 'grads.safetensors');
  return { dir, modelDir: path.join(dir, 'model'), json, outputs: read('outputs.safetensors'), grads: fs.existsSync(gradsFile) ? read('grads.safetensors') : undefined };
}

export function int2d(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
}

/** Largest |actual - expected|; NaN anywhere counts as Infinity. Throws when the shapes differ. */
export function maxAbsDiff(actual: tf.Tensor, expected: tf.Tensor | HostTensor): number {
  if (actual.shape.join() !== expected.shape.join()) throw new Error(`shape mismatch: [${actual.shape}] vs [${expected.shape}]`);
  const a = actual.dataSync();
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected.data;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
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

/** A host Batch of a fixture's input_ids / attention_mask / token_type_ids rows, carrying the given fields. */
export function fixtureHostBatch(inputs: Record<string, number[][]>, fields: Batch['fields']): Batch {
  const ids = inputs.input_ids;
  const size = ids.length;
  const seqLen = ids[0].length;
  return {
    size,
    seqLen,
    inputIds: Int32Array.from(ids.flat()),
    attentionMask: Int32Array.from(inputs.attention_mask.flat()),
    tokenTypeIds: Int32Array.from(inputs.token_type_ids.flat()),
    specialTokensMask: new Uint8Array(size * seqLen),
    fields,
  };
}

/**
 * How a safetensors file differs from the tensors HF wrote: metadata, names, then per tensor dtype,
 * shape and bytes. Empty when identical (tests expect `[]`, so a failure lists every difference).
 */
export function safetensorsDifferences(actualFile: string, expected: Map<string, SafetensorsTensor>): string[] {
  const actual = readSafetensors(actualFile);
  const problems: string[] = [];
  if (JSON.stringify(actual.metadata) !== JSON.stringify({ format: 'pt' })) problems.push(`metadata ${JSON.stringify(actual.metadata)} instead of {"format":"pt"}`);
  const names = (m: Map<string, unknown>) => [...m.keys()].sort().join(', ');
  if (names(actual.tensors) !== names(expected)) problems.push(`tensor names [${names(actual.tensors)}] instead of [${names(expected)}]`);
  for (const [name, t] of expected) {
    const mine = actual.tensors.get(name);
    if (!mine) continue;
    if (mine.dtype !== t.dtype || mine.shape.join() !== t.shape.join()) problems.push(`${name}: ${mine.dtype} [${mine.shape}] instead of ${t.dtype} [${t.shape}]`);
    else if (!bytesOf(mine.data).equals(bytesOf(t.data))) problems.push(`${name}: different values`);
  }
  return problems;
}

function bytesOf(data: ArrayBufferView): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** How a saved checkpoint folder compares with the one HF wrote (see hfCheckpointComparison). */
export interface HfCheckpointComparison {
  /** safetensorsDifferences of the two model.safetensors files. */
  tensorDifferences: string[];
  /** The two model.safetensors files are the same bytes (HF's ordering and header layout). */
  identicalBytes: boolean;
  /** The two config.json files parse to the same object. */
  sameConfig: boolean;
  /** The files the saved folder holds, sorted. */
  files: string[];
}

export function hfCheckpointComparison(savedDir: string, hfModelDir: string): HfCheckpointComparison {
  const saved = (file: string) => fs.readFileSync(path.join(savedDir, file));
  const hf = (file: string) => fs.readFileSync(path.join(hfModelDir, file));
  return {
    tensorDifferences: safetensorsDifferences(path.join(savedDir, 'model.safetensors'), readSafetensors(path.join(hfModelDir, 'model.safetensors')).tensors),
    identicalBytes: saved('model.safetensors').equals(hf('model.safetensors')),
    sameConfig: isDeepStrictEqual(JSON.parse(saved('config.json').toString('utf8')), JSON.parse(hf('config.json').toString('utf8'))),
    files: fs.readdirSync(savedDir).sort(),
  };
}
