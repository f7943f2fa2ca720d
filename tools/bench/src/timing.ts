/** Median wall time of `fn` (ms): warm-up runs first, then repeats until `budgetMs` or `maxRuns`. */
export function medianMs(fn: () => void, options: { warmup?: number; budgetMs?: number; minRuns?: number; maxRuns?: number } = {}): number {
  const { warmup = 2, budgetMs = 1500, minRuns = 3, maxRuns = 50 } = options;
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (times.length < maxRuns && performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

