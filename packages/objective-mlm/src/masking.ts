import type { Batch } from '@pretrain/core';
import { Rng } from '@pretrain/core';

export const IGNORE_INDEX = -100;

export interface MaskingOptions {
  /** Share of maskable tokens selected for prediction. */
  maskProbability: number;
  /** Of the selected tokens: share replaced by the mask token ... */
  maskTokenProbability: number;
  /** ... and share replaced by a random token; the rest keep their id. */
  randomTokenProbability: number;
  /** Select whole words (all pieces of a word or none). */
  wholeWordMasking: boolean;
  /** Cap on selected tokens per sequence (BERT's max_predictions_per_seq); 0 = no cap. */
  maxPredictionsPerSequence: number;
}

export interface MaskingVocabulary {
  maskId: number;
  vocabSize: number;
  /** Ids that are never selected and never drawn as random replacements. */
  specialIds: ReadonlySet<number>;
  /** Word-piece continuation test, used for whole-word masking when a batch carries no wordIds. */
  isContinuation?: (id: number) => boolean;
}

export interface MaskedRow {
  /** Column indices selected for prediction, ascending. */
  positions: number[];
}

/** Positions of one row that may be selected: real tokens that are not special. */
export function maskableColumns(batch: Batch, row: number, vocabulary: MaskingVocabulary): number[] {
  const offset = row * batch.seqLen;
  const columns: number[] = [];
  for (let col = 0; col < batch.seqLen; col++) {
    const i = offset + col;
    if (batch.attentionMask[i] === 0 || batch.specialTokensMask[i] !== 0) continue;
    if (vocabulary.specialIds.has(batch.inputIds[i])) continue;
    columns.push(col);
  }
  return columns;
}

/** Candidate groups: one per token, or one per word (consecutive pieces sharing a word id). */
export function candidateGroups(batch: Batch, row: number, columns: number[], vocabulary: MaskingVocabulary, wholeWord: boolean): number[][] {
  if (!wholeWord) return columns.map((c) => [c]);
  const offset = row * batch.seqLen;
  const groups: number[][] = [];
  let previousColumn = -2;
  let previousWord = -1;
  for (const col of columns) {
    const id = batch.inputIds[offset + col];
    const word = batch.wordIds ? batch.wordIds[offset + col] : undefined;
    const continues =
      col === previousColumn + 1 &&
      groups.length > 0 &&
      (word !== undefined ? word >= 0 && word === previousWord : Boolean(vocabulary.isContinuation?.(id)));
    if (continues) groups[groups.length - 1].push(col);
    else groups.push([col]);
    previousColumn = col;
    previousWord = word ?? -1;
  }
  return groups;
}

/**
 * Picks the positions to predict in one row, like BERT's create_masked_lm_predictions: shuffle the
 * candidate groups and take whole groups until the target count is reached. The target is
 * rounded stochastically (floor + Bernoulli of the remainder) so the expected rate is exactly
 * maskProbability even for short sequences.
 */
export function selectPositions(groups: number[][], tokenCount: number, options: MaskingOptions, rng: Rng): number[] {
  if (tokenCount === 0) return [];
  const expected = tokenCount * options.maskProbability;
  let target = Math.floor(expected) + (rng.float() < expected - Math.floor(expected) ? 1 : 0);
  if (options.maxPredictionsPerSequence > 0) target = Math.min(target, options.maxPredictionsPerSequence);
  const order = rng.shuffle(groups.map((_, i) => i));
  const selected: number[] = [];
  for (const g of order) {
    if (selected.length >= target) break;
    const group = groups[g];
    if (selected.length + group.length > target) continue;
    selected.push(...group);
  }
  return selected.sort((a, b) => a - b);
}

function randomReplacement(vocabulary: MaskingVocabulary, rng: Rng): number {
  for (;;) {
    const id = rng.int(vocabulary.vocabSize);
    if (!vocabulary.specialIds.has(id)) return id;
  }
}

/** FNV-1a over a row's real tokens: static masking seeds each example's mask from its content. */
export function rowHash(batch: Batch, row: number, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  const offset = row * batch.seqLen;
  for (let col = 0; col < batch.seqLen; col++) {
    if (batch.attentionMask[offset + col] === 0) continue;
    hash = Math.imul(hash ^ batch.inputIds[offset + col], 0x01000193) >>> 0;
  }
  return hash;
}

export interface MaskBatchOptions extends MaskingOptions {
  labelField: string;
  positionsField: string;
  /** Static masking: each example's mask depends only on its tokens and this seed. */
  staticSeed?: number;
}

/**
 * Returns a copy of the batch with selected tokens corrupted (mask / random / kept), per-token
 * labels (the original id at selected positions, -100 elsewhere) and the flat indices
 * (row * seqLen + col) of the selected positions for the sparse prediction head.
 */
export function maskBatch(batch: Batch, rng: Rng, vocabulary: MaskingVocabulary, options: MaskBatchOptions): Batch {
  const inputIds = Int32Array.from(batch.inputIds);
  const labels = new Int32Array(batch.size * batch.seqLen).fill(IGNORE_INDEX);
  const flatPositions: number[] = [];
  const keepProbability = options.maskTokenProbability + options.randomTokenProbability;
  for (let row = 0; row < batch.size; row++) {
    const rowRng = options.staticSeed === undefined ? rng : new Rng(rowHash(batch, row, options.staticSeed));
    const columns = maskableColumns(batch, row, vocabulary);
    const groups = candidateGroups(batch, row, columns, vocabulary, options.wholeWordMasking);
    const positions = selectPositions(groups, columns.length, options, rowRng);
    for (const col of positions) {
      const i = row * batch.seqLen + col;
      labels[i] = batch.inputIds[i];
      flatPositions.push(i);
      const r = rowRng.float();
      if (r < options.maskTokenProbability) inputIds[i] = vocabulary.maskId;
      else if (r < keepProbability) inputIds[i] = randomReplacement(vocabulary, rowRng);
    }
  }
  return {
    ...batch,
    inputIds,
    fields: { ...batch.fields, [options.labelField]: labels, [options.positionsField]: Int32Array.from(flatPositions) },
  };
}
