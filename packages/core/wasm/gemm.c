/*
 * Single-precision products for the wasm backend, built with clang for wasm32 + SIMD128 and run on
 * TF.js's own heap (the module imports tfjs-backend-wasm's memory; pointers are heap offsets).
 * XNNPACK's f32 GEMM in TF.js 4.22 peaks near 31 GFLOP/s on one core here; V8 keeps at most 15
 * vector registers, and a 4-row × 8-column tile (8 accumulators) is the largest that runs without
 * spills: ~40 GFLOP/s with mul + add, ~52 with relaxed-SIMD fused multiply-add.
 *
 * No static data and no shadow stack: everything lives in locals, so the module never writes
 * outside the buffers it is given (the build script checks both).
 *
 * C[i, j] = bias[j] + Σ_l A(i, l) · B(l, j) for each batch item, where A(i, l) = a[i·sam + l·sak] and
 * B(l, j) = b[l·sbk + j·sbn] (a transpose is a swap of strides). B is packed in blocks of KC rows ×
 * NC columns, as panels of 8 columns (into the thread's scratch, or once for the whole product by
 * sgemmPackB); A is taken 4 rows at a time, one value per row broadcast per step — read in place when
 * stored by rows, packed per 4-row tile when stored transposed.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#include "work.h"

#ifdef PRETRAIN_RELAXED
/* clang 14 names f32x4.relaxed_madd "fma" and emits a pre-standard opcode; the build script rewrites
 * it to the standard one (0xfd 0x105), whose operand order is madd(a, b, c) = a·b + c. */
#define MADD(a, b, acc) ((v128_t)__builtin_wasm_fma_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(acc)))
#else
#define MADD(a, b, acc) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

#define NR 8
#define KC 256
#define NC 256
/* Floats of scratch one part needs: a packed KC × NC block of B, its NC bias values, a packed 4 × KC tile of A. */
#define SCRATCH_FLOATS ((KC + 1) * NC + 4 * KC)

__attribute__((export_name("scratchFloats"))) int scratch_floats(void) { return SCRATCH_FLOATS; }

/* Packs B rows [l0, l0 + kc) × columns [j0, j0 + nc) as panels of NR columns (zero-padded). */
static void pack_block(const float *b, int sbk, int sbn, int l0, int kc, int j0, int nc, float *packed) {
  for (int p = 0; p < nc; p += NR) {
    int cols = nc - p < NR ? nc - p : NR;
    float *panel = packed + p * kc;
    int l = 0;
    if (cols == NR && sbk == 1) {
      /* B stored transposed ([n, k]): the panel's 8 columns are 8 rows of the storage; 4 values of
       * each at a time, transposed in registers (4 × 4 twice). */
      const float *r0 = b + (j0 + p) * sbn + l0;
      for (; l + 4 <= kc; l += 4) {
        v128_t x[8];
        for (int j = 0; j < 8; j++) x[j] = wasm_v128_load(r0 + j * sbn + l);
        for (int half = 0; half < 2; half++) {
          v128_t a = x[4 * half], b4 = x[4 * half + 1], c = x[4 * half + 2], d = x[4 * half + 3];
          v128_t ab_lo = wasm_i32x4_shuffle(a, b4, 0, 4, 1, 5), ab_hi = wasm_i32x4_shuffle(a, b4, 2, 6, 3, 7);
          v128_t cd_lo = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), cd_hi = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
          float *dst = panel + l * NR + 4 * half;
          wasm_v128_store(dst, wasm_i64x2_shuffle(ab_lo, cd_lo, 0, 2));
          wasm_v128_store(dst + NR, wasm_i64x2_shuffle(ab_lo, cd_lo, 1, 3));
          wasm_v128_store(dst + 2 * NR, wasm_i64x2_shuffle(ab_hi, cd_hi, 0, 2));
          wasm_v128_store(dst + 3 * NR, wasm_i64x2_shuffle(ab_hi, cd_hi, 1, 3));
        }
      }
    }
    for (; l < kc; l++) {
      const float *row = b + (l0 + l) * sbk + (j0 + p) * sbn;
      float *dst = panel + l * NR;
      if (cols == NR && sbn == 1) {
        wasm_v128_store(dst, wasm_v128_load(row));
        wasm_v128_store(dst + 4, wasm_v128_load(row + 4));
      } else {
        for (int j = 0; j < NR; j++) dst[j] = j < cols ? row[j * sbn] : 0.0f;
      }
    }
  }
}

static inline v128_t load_part(const float *p, int cols) {
  if (cols >= 4) return wasm_v128_load(p);
  return wasm_f32x4_make(p[0], cols > 1 ? p[1] : 0.0f, cols > 2 ? p[2] : 0.0f, 0.0f);
}

static inline void store_part(float *p, v128_t v, int cols) {
  if (cols >= 4) {
    wasm_v128_store(p, v);
    return;
  }
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (cols > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (cols > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

static inline void load_row(const float *p, int cols, v128_t *lo, v128_t *hi) {
  *lo = load_part(p, cols);
  *hi = cols > 4 ? load_part(p + 4, cols - 4) : wasm_f32x4_splat(0.0f);
}

static inline void store_row(float *p, v128_t lo, v128_t hi, int cols) {
  if (cols == NR) {
    wasm_v128_store(p, lo);
    wasm_v128_store(p + 4, hi);
    return;
  }
  store_part(p, lo, cols);
  if (cols > 4) store_part(p + 4, hi, cols - 4);
}

/* The 4 × 8 tile's k loop: A values at a0…a3 + l·STEP (STEP a constant, so V8 gets immediate offsets). */
#define TILE_LOOP(STEP)                                                                                 \
  for (int l = 0; l < kc; l++, bp += NR) {                                                              \
    v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4), v;                                     \
    v = wasm_v128_load32_splat(a0 + l * (STEP)); c00 = MADD(v, b0, c00); c01 = MADD(v, b1, c01);        \
    v = wasm_v128_load32_splat(a1 + l * (STEP)); c10 = MADD(v, b0, c10); c11 = MADD(v, b1, c11);        \
    v = wasm_v128_load32_splat(a2 + l * (STEP)); c20 = MADD(v, b0, c20); c21 = MADD(v, b1, c21);        \
    v = wasm_v128_load32_splat(a3 + l * (STEP)); c30 = MADD(v, b0, c30); c31 = MADD(v, b1, c31);        \
  }

/*
 * Rows [0, m) of C's columns [j0, j0 + nc) over B rows [l0, l0 + kc): C = start + A·B, where start is
 * the bias (first block; bias may be 0 = none) or C itself (later blocks). A stored by rows (sak = 1)
 * is read in place; otherwise each 4-row tile is first packed k-major into a_tile (4 values per k).
 */
static void block_product(const float *a, int sam, int sak, int l0, int kc, int m, const float *packed, const float *bias_packed,
                          int first, float *c, int ldc, int j0, int nc, float *a_tile) {
  for (int i = 0; i < m; i += 4) {
    int rows = m - i < 4 ? m - i : 4;
    const float *a0, *a1, *a2, *a3;
    if (sak == 1) {
      a0 = a + i * sam + l0;
      a1 = rows > 1 ? a0 + sam : a0;
      a2 = rows > 2 ? a1 + sam : a1;
      a3 = rows > 3 ? a2 + sam : a2;
    } else {
      /* A stored transposed ([k, m], sam = 1): the tile's 4 rows are 4 adjacent values of each stored row. */
      const float *src = a + i + l0 * sak;
      if (rows == 4) {
        for (int l = 0; l < kc; l++) wasm_v128_store(a_tile + 4 * l, wasm_v128_load(src + l * sak));
      } else {
        for (int l = 0; l < kc; l++)
          for (int r = 0; r < 4; r++) a_tile[4 * l + r] = src[l * sak + (r < rows ? r : rows - 1)];
      }
      a0 = a_tile;
      a1 = a_tile + 1;
      a2 = a_tile + 2;
      a3 = a_tile + 3;
    }
    for (int p = 0; p < nc; p += NR) {
      int cols = nc - p < NR ? nc - p : NR;
      float *cp = c + i * ldc + j0 + p;
      v128_t c00, c01, c10, c11, c20, c21, c30, c31;
      if (first) {
        c00 = c10 = c20 = c30 = wasm_v128_load(bias_packed + p);
        c01 = c11 = c21 = c31 = wasm_v128_load(bias_packed + p + 4);
      } else {
        load_row(cp, cols, &c00, &c01);
        if (rows > 1) load_row(cp + ldc, cols, &c10, &c11); else c10 = c11 = c00;
        if (rows > 2) load_row(cp + 2 * ldc, cols, &c20, &c21); else c20 = c21 = c00;
        if (rows > 3) load_row(cp + 3 * ldc, cols, &c30, &c31); else c30 = c31 = c00;
      }
      const float *bp = packed + p * kc;
      if (sak == 1) {
        TILE_LOOP(1)
      } else {
        TILE_LOOP(4)
      }
      store_row(cp, c00, c01, cols);
      if (rows > 1) store_row(cp + ldc, c10, c11, cols);
      if (rows > 2) store_row(cp + 2 * ldc, c20, c21, cols);
      if (rows > 3) store_row(cp + 3 * ldc, c30, c31, cols);
    }
  }
}

/* KC-row blocks of a k-long sum. */
static inline int k_blocks(int k) { return (k + KC - 1) / KC; }

/*
 * One product, columns [j_begin, j_end) of C. B's blocks are packed here into scratch, or were packed
 * beforehand (prepacked, non-null: sgemmPackB's layout, block (j0 / NC, l0 / KC) at
 * ((j0 / NC) · k_blocks(k) + l0 / KC) · KC · NC).
 */
static void product_columns(const float *a, int sam, int sak, const float *b, int sbk, int sbn, const float *bias, float *c,
                            int m, int n, int k, int j_begin, int j_end, float *scratch, const float *prepacked) {
  float *bias_packed = scratch + KC * NC;
  for (int j0 = j_begin; j0 < j_end; j0 += NC) {
    int nc = j_end - j0 < NC ? j_end - j0 : NC;
    for (int j = 0; j < NC; j++) bias_packed[j] = bias && j < nc ? bias[j0 + j] : 0.0f;
    if (k == 0) {
      /* An empty sum: C is the bias (or zeros). */
      for (int i = 0; i < m; i++)
        for (int j = 0; j < nc; j++) c[i * n + j0 + j] = bias_packed[j];
      continue;
    }
    for (int l0 = 0; l0 < k; l0 += KC) {
      int kc = k - l0 < KC ? k - l0 : KC;
      const float *block = scratch;
      if (prepacked) block = prepacked + ((j0 / NC) * k_blocks(k) + l0 / KC) * (KC * NC);
      else pack_block(b, sbk, sbn, l0, kc, j0, nc, scratch);
      block_product(a, sam, sak, l0, kc, m, block, bias_packed, l0 == 0, c, n, j0, nc, scratch + (KC + 1) * NC);
    }
  }
}

/* Floats sgemmPackB writes for a [k, n] B. */
__attribute__((export_name("packedBFloats"))) int packed_b_floats(int k, int n) { return k_blocks(k) * ((n + NC - 1) / NC) * KC * NC; }

/*
 * args: b, k, n, trans_b, packed — all of one product's B packed once (chunks of blocks), for sgemm
 * calls whose chunks are rows: each would otherwise pack all of B itself.
 */
__attribute__((export_name("sgemmPackB"))) void sgemm_pack_b(const double *args, int part, int parts) {
  (void)part;
  const float *b = (const float *)(uintptr_t)args[0];
  int k = (int)args[1], n = (int)args[2], trans_b = (int)args[3];
  float *packed = (float *)(uintptr_t)args[4];
  int sbk = trans_b ? 1 : n, sbn = trans_b ? k : 1;
  int kb = k_blocks(k), units = kb * ((n + NC - 1) / NC);
  int chunks = chunk_count(units, parts, 1);
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(units, chunks, chunk, &begin, &end);
    for (int u = begin; u < end; u++) {
      int j0 = (u / kb) * NC, l0 = (u % kb) * KC;
      int nc = n - j0 < NC ? n - j0 : NC, kc = k - l0 < KC ? k - l0 : KC;
      pack_block(b, sbk, sbn, l0, kc, j0, nc, packed + u * (KC * NC));
    }
  }
}

/* A chunk of a product is at least this many multiply-adds (smaller ones cost more to hand out). */
#define MIN_CHUNK_MACS (1 << 18)

/*
 * op(A)·op(B) (+ bias) for `batch` products, A [m, k] (stored [k, m] when trans_a), B [k, n] (stored
 * [n, k] when trans_b), batch item t at a + t·stride_a, b + t·stride_b (floats; 0 = shared), C
 * contiguous [batch, m, n]. `parts` threads run this at once, taking chunks (work.h): each batch item
 * is one chunk or is cut into chunks of 8-column panels (n > m: each chunk packs only its own columns
 * of B) or of rows in multiples of 4 (each packs all of B, at most a few percent of its work). `part`
 * picks the thread's own SCRATCH_FLOATS of `scratch`. Each output element is summed within one chunk
 * in the same order, so the result does not depend on `parts`.
 *
 * args (doubles, see kernels.c): a, b, c, bias (0: none), m, n, k, trans_a, trans_b, batch, stride_a, stride_b, scratch,
 * prepacked (0, or B packed by sgemmPackB: one product, batch 1)
 */
__attribute__((export_name("sgemm"))) void sgemm(const double *args, int part, int parts) {
  const float *a = (const float *)(uintptr_t)args[0], *b = (const float *)(uintptr_t)args[1];
  float *c = (float *)(uintptr_t)args[2];
  const float *bias = (const float *)(uintptr_t)args[3];
  int m = (int)args[4], n = (int)args[5], k = (int)args[6], trans_a = (int)args[7], trans_b = (int)args[8], batch = (int)args[9];
  int stride_a = (int)args[10], stride_b = (int)args[11];
  float *scratch = (float *)(uintptr_t)args[12];
  const float *prepacked = (const float *)(uintptr_t)args[13];
  int sam = trans_a ? 1 : k, sak = trans_a ? m : 1;
  int sbk = trans_b ? 1 : n, sbn = trans_b ? k : 1;
  float *own = scratch + part * SCRATCH_FLOATS;
  /* Chunks per batch item: by columns when the product is wider than tall, else by rows. */
  int by_columns = n > m;
  int units = by_columns ? (n + NR - 1) / NR : (m + 3) / 4;
  long long unit_macs = (long long)(by_columns ? NR : 4) * (by_columns ? m : n) * (k > 0 ? k : 1);
  int min_units = by_columns || prepacked ? 1 : 8; /* row chunks that pack all of B: at least 32 rows each */
  if (unit_macs * min_units < MIN_CHUNK_MACS) min_units = (int)((MIN_CHUNK_MACS + unit_macs - 1) / unit_macs);
  int per_item = batch >= 4 * parts ? 1 : chunk_count(units, parts, min_units);
  FOR_EACH_CHUNK(args, batch * per_item, chunk) {
    int t = chunk / per_item, begin, end;
    chunk_range(units, per_item, chunk % per_item, &begin, &end);
    const float *at = a + t * stride_a, *bt = b + t * stride_b;
    float *ct = c + t * m * n;
    if (by_columns) {
      int j_end = end * NR < n ? end * NR : n;
      product_columns(at, sam, sak, bt, sbk, sbn, bias, ct, m, n, k, begin * NR, j_end, own, 0);
    } else {
      int r0 = begin * 4, r1 = end * 4 < m ? end * 4 : m;
      product_columns(at + r0 * sam, sam, sak, bt, sbk, sbn, bias, ct + r0 * n, r1 - r0, n, k, 0, n, own, batch == 1 ? prepacked : 0);
    }
  }
}
