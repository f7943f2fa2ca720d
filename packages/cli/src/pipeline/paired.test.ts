import { pairedDifference } from './paired';

const bits = (s: string) => Uint8Array.from(s, (c) => Number(c));

describe('pairedDifference', () => {
  it('matches the textbook paired estimate on a small hand-checked case', () => {
    // d = [1, 1, 1, -1, 0, 0, 0, 0]: mean 0.25, sample variance (4 - 8 * 0.0625) / 7 = 0.5, SE = sqrt(0.5 / 8) = 0.25.
    const result = pairedDifference([{ a: bits('11100110'), b: bits('00010110') }]);
    expect(result.onlyA).toBe(3);
    expect(result.onlyB).toBe(1);
    expect(result.gain).toBeCloseTo(0.25, 12);
    expect(result.halfWidth95).toBeCloseTo(1.96 * 0.25, 12);
  });

  it('pools several comparisons, and identical arms differ by exactly 0 ± 0', () => {
    const pooled = pairedDifference([
      { a: bits('1100'), b: bits('0000') },
      { a: bits('0000'), b: bits('0011') },
    ]);
    expect(pooled.gain).toBe(0);
    expect(pooled.examples).toBe(8);
    expect(pooled.halfWidth95).toBeGreaterThan(0);
    expect(pairedDifference([{ a: bits('1010'), b: bits('1010') }])).toMatchObject({ gain: 0, halfWidth95: 0 });
    expect(() => pairedDifference([{ a: bits('10'), b: bits('1') }])).toThrow('2 vs 1 examples');
  });

  it('with clusters, the interval treats whole clusters as the independent units (hand-computed)', () => {
    // Two sentences of 3 words: differences [1, 1, 1] and [0, 0, -1]; gain 2/6.
    // Cluster sums D = [3, -1], sizes N = [3, 3]: Σ (D - gain·N)² = (3 - 1)² + (-1 - 1)² = 8,
    // variance 8 · 2 / 1 / 36 = 4/9, half-width 1.96 · 2/3.
    const a = bits('111001');
    const b = bits('000001').map((v, i) => (i === 5 ? 1 : v));
    const clustered = pairedDifference([{ a: bits('111000'), b: bits('000001'), groups: Int32Array.from([0, 0, 0, 1, 1, 1]) }]);
    expect(clustered.gain).toBeCloseTo(2 / 6, 12);
    expect(clustered.halfWidth95).toBeCloseTo(1.96 * (2 / 3), 12);
    // One example per cluster is exactly the unclustered estimate.
    const single = pairedDifference([{ a, b, groups: Int32Array.from([5, 4, 3, 2, 1, 0]) }]);
    expect(single.halfWidth95).toBeCloseTo(pairedDifference([{ a, b }]).halfWidth95, 12);
    // Correlated words widen the interval compared with treating them as independent.
    expect(clustered.halfWidth95).toBeGreaterThan(pairedDifference([{ a: bits('111000'), b: bits('000001') }]).halfWidth95);
    expect(() => pairedDifference([{ a, b, groups: Int32Array.from([0]) }])).toThrow('1 groups for 6 examples');
  });
});
