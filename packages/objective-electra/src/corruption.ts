import { Rng, type Batch } from '@pretrain/core';

/** Batch fields the objective writes in transformBatch and reads in loss. */
export const ELECTRA_FIELDS = {
  /** Flat (row * seqLen + col) positions the generator predicts. */
  positions: 'electraPositions',
  /** The original token at each of those positions. */
  originals: 'electraOriginals',
  /** [sampling seed, discriminator dropout seed], drawn from the run's RNG (reproducible, resumable). */
  seeds: 'electraSeeds',
} as const;

export interface CorruptionVocabulary {
  maskId: number;
  /** Ids that are never selected. */
  specialIds: ReadonlySet<number>;
}

/**
 * Selects each maskable token (real, not special) with `maskProbability`, at least one per row that
 * has any, and replaces it by the mask token: the generator's input.
 */
export function maskForGenerator(batch: Batch, rng: Rng, vocabulary: CorruptionVocabulary, maskProbability: number): Batch {
  const inputIds = Int32Array.from(batch.inputIds);
  const positions: number[] = [];
  const originals: number[] = [];
  for (let row = 0; row < batch.size; row++) {
    const candidates: number[] = [];
    for (let col = 0; col < batch.seqLen; col++) {
      const i = row * batch.seqLen + col;
      if (batch.attentionMask[i] === 1 && batch.specialTokensMask[i] === 0 && !vocabulary.specialIds.has(batch.inputIds[i])) candidates.push(i);
    }
    let chosen = candidates.filter(() => rng.float() < maskProbability);
    if (chosen.length === 0 && candidates.length > 0) chosen = [candidates[rng.int(candidates.length)]];
    for (const i of chosen) {
      positions.push(i);
      originals.push(batch.inputIds[i]);
      inputIds[i] = vocabulary.maskId;
    }
  }
  const seeds = Int32Array.from([rng.int(2 ** 31 - 1), rng.int(2 ** 31 - 1)]);
  return {
    ...batch,
    inputIds,
    fields: { ...batch.fields, [ELECTRA_FIELDS.positions]: Int32Array.from(positions), [ELECTRA_FIELDS.originals]: Int32Array.from(originals), [ELECTRA_FIELDS.seeds]: seeds },
  };
}

/** Draws one id per row of [rows, vocab] logits from softmax(logits / temperature). */
export function sampleRows(logits: Float32Array, rows: number, vocab: number, temperature: number, rng: Rng): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[base + v] / temperature);
    let total = 0;
    for (let v = 0; v < vocab; v++) total += Math.exp(logits[base + v] / temperature - max);
    let u = rng.float() * total;
    let pick = vocab - 1;
    for (let v = 0; v < vocab; v++) {
      u -= Math.exp(logits[base + v] / temperature - max);
      if (u <= 0) {
        pick = v;
        break;
      }
    }
    out[r] = pick;
  }
  return out;
}

/**
 * The discriminator's input and targets: the generator's samples written over the masked positions;
 * target 1 where the token differs from the original. A sample that happens to equal the original
 * counts as original (ELECTRA's labels).
 */
export function replaceSampled(maskedIds: Int32Array, positions: Int32Array, originals: Int32Array, sampled: Int32Array): { corrupted: Int32Array; replaced: Float32Array } {
  const corrupted = Int32Array.from(maskedIds);
  const replaced = new Float32Array(maskedIds.length);
  positions.forEach((i, k) => {
    corrupted[i] = sampled[k];
    replaced[i] = sampled[k] === originals[k] ? 0 : 1;
  });
  return { corrupted, replaced };
}
