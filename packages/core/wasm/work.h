/*
 * Work sharing between the threads of one call (src/kernels/wasm/simd-kernels.ts). A call is cut into
 * chunks whose boundaries depend only on its sizes and `parts` (never on which thread runs what), and
 * the threads take chunks from a shared counter until none are left — a thread that starts late (a
 * sleeping worker takes ~60 µs to wake) or runs slower takes fewer. Each output element is computed
 * within one chunk, in the same order whatever thread runs it, so results do not depend on `parts`
 * (and sums over rows use fixed blocks whatever the chunks).
 *
 * The counter is the int32 just before the arguments in the control block; the caller zeroes it. In
 * the single-threaded build (no atomics) the fetch-add is an ordinary one.
 */
#ifndef PRETRAIN_WORK_H
#define PRETRAIN_WORK_H

#define CHUNK_COUNTER(args) ((int *)((char *)(args) - 8))

static inline int take_chunk(const double *args) { return __atomic_fetch_add(CHUNK_COUNTER(args), 1, __ATOMIC_RELAXED); }

#define FOR_EACH_CHUNK(args, chunks, chunk) for (int chunk = take_chunk(args); chunk < (chunks); chunk = take_chunk(args))

/* Chunks for n units: 1 for one thread; else up to 8 per thread, each at least min_units long. */
static inline int chunk_count(int n, int parts, int min_units) {
  if (parts <= 1 || n <= min_units) return 1;
  int chunks = n / (min_units > 0 ? min_units : 1);
  return chunks > 8 * parts ? 8 * parts : chunks;
}

/* Units [begin, end) of chunk `chunk` of `chunks` over n units. */
static inline void chunk_range(int n, int chunks, int chunk, int *begin, int *end) {
  *begin = (int)((long long)n * chunk / chunks);
  *end = (int)((long long)n * (chunk + 1) / chunks);
}

#endif
