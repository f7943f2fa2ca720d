import { Rng } from './rng';

describe('Rng', () => {
  it('is xoshiro128** (reference outputs for state [1, 2, 3, 4])', () => {
    const rng = Rng.fromState({ s: [1, 2, 3, 4], spareNormal: null });
    // First outputs of the reference C implementation (prng.di.unimi.it) from this state.
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('fills a dropout mask with the same draws, decisions and final state as nextUint32 per pair', () => {
    for (const size of [0, 1, 2, 7, 4096, 100_001]) {
      for (const rate of [0.1, 0.5, 0.9]) {
        const [a, b] = [new Rng(size + 3), new Rng(size + 3)];
        const scale = 1 / (1 - rate);
        const threshold = Math.round((1 - rate) * 65536);
        const expected = new Float32Array(size);
        for (let i = 0; i < size; i += 2) {
          const bits = a.nextUint32();
          expected[i] = (bits & 0xffff) < threshold ? scale : 0;
          if (i + 1 < size) expected[i + 1] = bits >>> 16 < threshold ? scale : 0;
        }
        const mask = new Float32Array(size);
        b.fillDropoutMask(mask, threshold, scale);
        expect(Array.from(mask)).toEqual(Array.from(expected));
        expect(b.getState()).toEqual(a.getState());
        expect(b.nextUint32()).toBe(a.nextUint32());
      }
    }
    const kept = new Float32Array(10_000);
    new Rng(1).fillDropoutMask(kept, Math.round(0.9 * 65536), 1 / 0.9);
    expect(kept.filter((v) => v > 0).length / kept.length).toBeCloseTo(0.9, 1);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return [rng.float(), rng.int(1000), rng.normal(), rng.nextUint32()];
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('restores exactly from saved state, including a pending Box–Muller value, through JSON', () => {
    const rng = new Rng(123);
    for (let i = 0; i < 37; i++) rng.float();
    rng.normal(); // leaves the second normal pending
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    expect(saved.spareNormal).not.toBeNull();
    const continueWith = (r: Rng) => [r.normal(), r.normal(), r.int(7), r.float(), ...r.shuffle([1, 2, 3, 4, 5, 6, 7, 8]), r.fork().nextUint32()];
    const expected = continueWith(rng);
    expect(continueWith(Rng.fromState(saved))).toEqual(expected);
    const other = new Rng(999);
    other.setState(saved);
    expect(continueWith(other)).toEqual(expected);
  });

  it('draws unbiased integers within bounds and plausible normals', () => {
    const rng = new Rng(1);
    const counts = new Array(3).fill(0);
    for (let i = 0; i < 30000; i++) counts[rng.int(3)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < 20000; i++) {
      const v = rng.normal();
      sum += v;
      sumSq += v * v;
    }
    expect(Math.abs(sum / 20000)).toBeLessThan(0.03);
    expect(Math.abs(sumSq / 20000 - 1)).toBeLessThan(0.05);
  });

  it('rejects bad arguments and states', () => {
    expect(() => new Rng(NaN)).toThrow('finite');
    expect(() => new Rng(1).int(0)).toThrow('positive integer');
    expect(() => new Rng(1).int(2.5)).toThrow('positive integer');
    expect(() => new Rng(1).setState({ s: [1, 2, 3], spareNormal: null } as never)).toThrow('Rng.setState');
  });
});
