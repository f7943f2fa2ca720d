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

/** One comparison: `a` and `b` are 1 where that arm's prediction was right. */
export interface PairedOutcomes {
  a: Uint8Array;
  b: Uint8Array;
  /**
   * Cluster of each example (e.g. the sentence a tagged word belongs to). Words of one sentence
   * are not independent, so the interval then treats whole clusters as the independent units.
   * Without it every example is its own cluster.
   */
  groups?: Int32Array;
}

/**
 * The paired gain and its 95% interval. Several comparisons (e.g. one per labeled-set size) pool
 * into one estimate; their clusters count separately. With clusters the variance is the usual
 * ratio-estimator one, Σ_c (D_c − gain·N_c)² · C / (C − 1) / N², which reduces to the sample
 * variance of the per-example differences over n when every cluster holds one example.
 */
export function pairedDifference(pairs: PairedOutcomes[]): PairedDifference {
  let onlyA = 0;
  let onlyB = 0;
  let examples = 0;
  const clusters: { difference: number; size: number }[] = [];
  for (const { a, b, groups } of pairs) {
    if (a.length !== b.length) throw new Error(`pairedDifference: ${a.length} vs ${b.length} examples`);
    if (groups && groups.length !== a.length) throw new Error(`pairedDifference: ${groups.length} groups for ${a.length} examples`);
    const byGroup = new Map<number, { difference: number; size: number }>();
    for (let i = 0; i < a.length; i++) {
      const d = (a[i] ? 1 : 0) - (b[i] ? 1 : 0);
      if (d > 0) onlyA++;
      else if (d < 0) onlyB++;
      const key = groups ? groups[i] : i;
      const cluster = byGroup.get(key) ?? { difference: 0, size: 0 };
      cluster.difference += d;
      cluster.size += 1;
      byGroup.set(key, cluster);
    }
    clusters.push(...byGroup.values());
    examples += a.length;
  }
  if (examples === 0) return { gain: NaN, halfWidth95: NaN, onlyA, onlyB, examples };
  const gain = (onlyA - onlyB) / examples;
  const count = clusters.length;
  let squares = 0;
  for (const c of clusters) squares += (c.difference - gain * c.size) ** 2;
  const variance = count > 1 ? (squares * count) / (count - 1) / (examples * examples) : 0;
  return { gain, halfWidth95: 1.96 * Math.sqrt(variance), onlyA, onlyB, examples };
}
