import { PretrainError, type IteratorState, Rng } from '@pretrain/core';

/** The seed of the file/document order for one epoch: each epoch reshuffles, reproducibly. */
export function epochRng(seed: number, epoch: number): Rng {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) + epoch) >>> 0);
}

/** A permutation of 0..n-1 (identity when not shuffling). */
export function order(n: number, rng: Rng | undefined): number[] {
  const indices = Array.from({ length: n }, (_, i) => i);
  return rng ? rng.shuffle(indices) : indices;
}

/** Checks that a saved state belongs to a stream like this one before adopting it. */
export function checkState(state: IteratorState, expected: Record<string, unknown>, what: string): void {
  if (!state || typeof state !== 'object') throw new PretrainError(`${what}: setState needs a saved state object`);
  for (const [key, value] of Object.entries(expected)) {
    if (state[key] !== value) {
      throw new PretrainError(`${what}: cannot resume from this state: ${key} is ${JSON.stringify(state[key])} in the saved state but ${JSON.stringify(value)} here (the corpus or its options changed)`);
    }
  }
}
