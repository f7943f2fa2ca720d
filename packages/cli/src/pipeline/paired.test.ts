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
});
