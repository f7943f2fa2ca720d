/** Deterministic test vectors and their comparison, for the host-math and KV-cache tests. */
export function values(n: number, seed: number, spread = 3): Float32Array {
  // A fixed, irregular spread of values in [-spread, spread].
  return Float32Array.from({ length: n }, (_, i) => spread * Math.sin(seed * 12.9898 + i * 78.233));
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
