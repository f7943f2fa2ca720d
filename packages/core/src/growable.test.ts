import { GrowableIntArray } from './growable';

describe('GrowableIntArray', () => {
  it('keeps every value in order across growth, as an exactly-sized copy', () => {
    const values = new GrowableIntArray(Int32Array, 2);
    const expected: number[] = [];
    for (let i = 0; i < 100; i++) {
      values.push(-i - 1);
      expected.push(-i - 1);
      if (i % 7 === 0) {
        const run = [i, i + 1, i + 2, i + 3, i + 4];
        values.pushAll(Int32Array.from(run));
        expected.push(...run);
      }
    }
    const array = values.toArray();
    expect(array).toBeInstanceOf(Int32Array);
    expect(Array.from(array)).toEqual(expected);
    expect(values.length).toBe(expected.length);
    expect(array.buffer.byteLength).toBe(expected.length * 4);
  });

  it('takes a run longer than twice its capacity at once, and Uint32 values', () => {
    const values = new GrowableIntArray(Uint32Array, 1);
    values.pushAll(Array.from({ length: 9 }, (_, i) => 4_000_000_000 + i));
    expect(Array.from(values.toArray())).toEqual(Array.from({ length: 9 }, (_, i) => 4_000_000_000 + i));
  });

  it('clear() forgets the values but not the copies taken before', () => {
    const values = new GrowableIntArray();
    values.pushAll([1, 2, 3]);
    const before = values.toArray();
    values.clear();
    values.push(9);
    expect(Array.from(values.toArray())).toEqual([9]);
    expect(values.length).toBe(1);
    expect(Array.from(before)).toEqual([1, 2, 3]);
  });
});
