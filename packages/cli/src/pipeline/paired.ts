/**
 * Paired comparison of two classifiers on the same examples: both arms are scored on one
 * validation set, so per-example differences (right/wrong) give a much tighter interval than two
 * independent accuracies would.
 */
export interface PairedDifference {
  /** accuracy(a) − accuracy(b). */
  gain: number;
  /** Half-width of the normal-approximation 95% interval of `gain`. */
  halfWidth95: number;
  /** Examples only `a` got right, only `b` got right. */
  onlyA: number;
  onlyB: number;
  examples: number;
}

/** `a` and `b`: 1 where that arm's prediction was right. Several pairs (e.g. one per labeled-set size) pool into one estimate. */
export function pairedDifference(pairs: { a: Uint8Array; b: Uint8Array }[]): PairedDifference {
  let onlyA = 0;
  let onlyB = 0;
  let examples = 0;
  for (const { a, b } of pairs) {
    if (a.length !== b.length) throw new Error(`pairedDifference: ${a.length} vs ${b.length} examples`);
    for (let i = 0; i < a.length; i++) {
      if (a[i] && !b[i]) onlyA++;
      else if (b[i] && !a[i]) onlyB++;
    }
    examples += a.length;
  }
  if (examples === 0) return { gain: NaN, halfWidth95: NaN, onlyA, onlyB, examples };
  // d_i ∈ {−1, 0, 1}: mean (onlyA − onlyB)/n, sample variance from Σd² = onlyA + onlyB.
  const gain = (onlyA - onlyB) / examples;
  const variance = examples > 1 ? (onlyA + onlyB - examples * gain * gain) / (examples - 1) : 0;
  return { gain, halfWidth95: 1.96 * Math.sqrt(variance / examples), onlyA, onlyB, examples };
}
