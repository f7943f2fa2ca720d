/** The first `n` items of an async iterable (all of them by default), stopping the iteration there. */
export async function take<T>(iterable: AsyncIterable<T>, n = Infinity): Promise<T[]> {
  const out: T[] = [];
  if (n <= 0) return out;
  for await (const item of iterable) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}
