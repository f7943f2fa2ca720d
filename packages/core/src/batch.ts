import * as tf from '@tensorflow/tfjs-core';
import type { Batch, BatchTensors, Example } from './contract';

export interface CollateOptions {
  padId: number;
  /** Pad to this length (default: the longest example). */
  maxLength?: number;
  /** Round the padded length up to a multiple of this (e.g. 8). */
  padToMultipleOf?: number;
}

/**
 * Pads examples into one row-major batch. Per-example labels become `fields[name]` ([size]);
 * per-token labels become `fields[name]` ([size * seqLen], padded with -100).
 */
export function collate(examples: Example[], options: CollateOptions): Batch {
  if (examples.length === 0) throw new Error('collate: no examples');
  const longest = Math.max(...examples.map((e) => e.inputIds.length));
  let seqLen = options.maxLength ?? longest;
  if (longest > seqLen) throw new Error(`collate: an example has ${longest} tokens, more than maxLength ${seqLen}`);
  if (options.padToMultipleOf) seqLen = Math.ceil(seqLen / options.padToMultipleOf) * options.padToMultipleOf;
  const size = examples.length;
  const n = size * seqLen;
  const batch: Batch = {
    size,
    seqLen,
    inputIds: new Int32Array(n).fill(options.padId),
    attentionMask: new Int32Array(n),
    tokenTypeIds: new Int32Array(n),
    specialTokensMask: new Uint8Array(n).fill(1),
    fields: {},
  };
  // A label field is float when any example's value is fractional (a regression batch may start with 5.0).
  const floatLabels = new Set(examples.flatMap((e) => Object.entries(e.labels ?? {}).filter(([, v]) => !Number.isInteger(v)).map(([k]) => k)));
  const hasWordIds = examples.some((e) => e.wordIds);
  if (hasWordIds) batch.wordIds = new Int32Array(n).fill(-1);
  examples.forEach((example, row) => {
    const offset = row * seqLen;
    const len = example.inputIds.length;
    batch.inputIds.set(example.inputIds, offset);
    batch.attentionMask.fill(1, offset, offset + len);
    if (example.tokenTypeIds) batch.tokenTypeIds.set(example.tokenTypeIds, offset);
    if (example.specialTokensMask) batch.specialTokensMask.set(example.specialTokensMask, offset);
    else batch.specialTokensMask.fill(0, offset, offset + len);
    if (batch.wordIds && example.wordIds) batch.wordIds.set(example.wordIds, offset);
    for (const [name, value] of Object.entries(example.labels ?? {})) {
      const field = (batch.fields[name] ??= floatLabels.has(name) ? new Float32Array(size) : new Int32Array(size));
      field[row] = value;
    }
    for (const [name, values] of Object.entries(example.tokenLabels ?? {})) {
      const field = (batch.fields[name] ??= new Int32Array(n).fill(-100));
      field.set(values, offset);
    }
  });
  return batch;
}

/** Tensors for the forward pass; the caller disposes them (or runs inside tf.tidy). */
export function batchToTensors(batch: Batch): BatchTensors {
  const shape: [number, number] = [batch.size, batch.seqLen];
  return {
    inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'),
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'),
    host: batch,
  };
}

export function disposeBatchTensors(tensors: BatchTensors): void {
  tensors.inputIds.dispose();
  tensors.attentionMask.dispose();
  tensors.tokenTypeIds.dispose();
}
