/*
 * Row-wise and element-wise kernels for the wasm backend, in the same module as gemm.c and run the
 * same way: on tfjs-backend-wasm's heap, by `parts` threads at once taking chunks of the work
 * (work.h; src/kernels/wasm/simd-kernels.ts starts them). Every function reads its arguments from an
 * array of doubles (heap offsets, sizes and scalars, each exact in a double); `part` is the calling
 * thread's index. No result depends on `parts`: each output element is computed within one chunk,
 * and sums over rows are taken in fixed 64-row blocks whose partials are added in order.
 *
 * The math follows core's JS kernels (layer-norm.ts, losses.ts, nn.ts's GELU) and the native addon
 * (packages/backend-native/native/pretrain_native.c), whose exp/erf approximations are the same.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#include "work.h"

/* Math.log from the host: wasm has no logarithm instruction, and this is one call per row. */
__attribute__((import_module("env"), import_name("log"))) double host_log(double);

#define ARG_PTR(type, i) ((type *)(uintptr_t)args[i])
#define ARG_INT(i) ((int)args[i])

/* Chunks of at least this many elements: smaller ones cost more to hand out than they save. */
#define MIN_CHUNK_ELEMENTS 8192

static inline int units_per_chunk(int unit_elements) { return unit_elements >= MIN_CHUNK_ELEMENTS ? 1 : (MIN_CHUNK_ELEMENTS + unit_elements - 1) / (unit_elements > 0 ? unit_elements : 1); }

/* Element-wise kernels: chunks of whole 64-element blocks; chunk `chunk`'s elements are [begin, end). */
static inline int element_chunks(int n, int parts) { return chunk_count((n + 63) / 64, parts, units_per_chunk(64)); }

static inline void element_range(int n, int chunks, int chunk, int *begin, int *end) {
  chunk_range((n + 63) / 64, chunks, chunk, begin, end);
  *begin *= 64;
  *end = *end * 64 < n ? *end * 64 : n;
}

/* Two floats as two doubles. */
static inline v128_t load2d(const float *p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }
static inline double lanes_sum(v128_t v) { return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1); }

/* ------------------------------------------------------------------------------------------ */
/* LayerNorm over the last axis, as core's layerNormRows (double statistics, one rounding)      */

static void row_stats(const float *x, int width, double eps, double *mean, double *rstd) {
  v128_t sums = wasm_f64x2_splat(0), squares = sums;
  int c = 0;
  for (; c + 2 <= width; c += 2) {
    v128_t v = load2d(x + c);
    sums = wasm_f64x2_add(sums, v);
    squares = wasm_f64x2_add(squares, wasm_f64x2_mul(v, v));
  }
  double sum = lanes_sum(sums), sq = lanes_sum(squares);
  for (; c < width; c++) {
    double v = x[c];
    sum += v;
    sq += v * v;
  }
  double mu = sum / width;
  double variance = sq / width - mu * mu;
  if (variance < 0) variance = 0;
  *mean = mu;
  *rstd = 1.0 / __builtin_sqrt(variance + eps);
}

/* args: x, gamma, beta, y, rows, width, eps */
__attribute__((export_name("layerNorm"))) void layer_norm(const double *args, int part, int parts) {
  const float *x = ARG_PTR(const float, 0), *gamma = ARG_PTR(const float, 1), *beta = ARG_PTR(const float, 2);
  float *y = ARG_PTR(float, 3);
  int rows = ARG_INT(4), width = ARG_INT(5);
  double eps = args[6];
  int chunks = chunk_count(rows, parts, units_per_chunk(width));
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(rows, chunks, chunk, &begin, &end);
    for (int r = begin; r < end; r++) {
      const float *xr = x + r * width;
      float *yr = y + r * width;
      double mean, rstd;
      row_stats(xr, width, eps, &mean, &rstd);
      /* Statistics in double; the normalisation in float, four lanes at a time. */
      float mean_f = (float)mean, rstd_f = (float)rstd;
      v128_t vmean = wasm_f32x4_splat(mean_f), vrstd = wasm_f32x4_splat(rstd_f);
      int c = 0;
      for (; c + 4 <= width; c += 4)
        wasm_v128_store(yr + c, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vmean), vrstd), wasm_v128_load(gamma + c)), wasm_v128_load(beta + c)));
      for (; c < width; c++) yr[c] = (xr[c] - mean_f) * rstd_f * gamma[c] + beta[c];
    }
  }
}

#define LN_BLOCK_ROWS 64

/* How many 64-row blocks of partial sums layerNormGrad writes for `rows` rows (the caller allocates them). */
__attribute__((export_name("layerNormGradBlocks"))) int layer_norm_grad_blocks(int rows) { return (rows + LN_BLOCK_ROWS - 1) / LN_BLOCK_ROWS; }

/* args: dy, x, gamma, dx, rows, width, eps, partials (per 64-row block: width sums for γ, then width for β, doubles) */
__attribute__((export_name("layerNormGrad"))) void layer_norm_grad(const double *args, int part, int parts) {
  const float *dy = ARG_PTR(const float, 0), *x = ARG_PTR(const float, 1), *gamma = ARG_PTR(const float, 2);
  float *dx = ARG_PTR(float, 3);
  int rows = ARG_INT(4), width = ARG_INT(5);
  double eps = args[6];
  double *partials = ARG_PTR(double, 7);
  int blocks = layer_norm_grad_blocks(rows);
  int chunks = chunk_count(blocks, parts, 1);
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(blocks, chunks, chunk, &begin, &end);
    for (int block = begin; block < end; block++) {
      double *acc_gamma = partials + block * 2 * width, *acc_beta = acc_gamma + width;
      for (int c = 0; c < 2 * width; c++) acc_gamma[c] = 0;
      int last = (block + 1) * LN_BLOCK_ROWS < rows ? (block + 1) * LN_BLOCK_ROWS : rows;
      for (int r = block * LN_BLOCK_ROWS; r < last; r++) {
        const float *xr = x + r * width, *dyr = dy + r * width;
        float *dxr = dx + r * width;
        double mean, rstd;
        row_stats(xr, width, eps, &mean, &rstd);
        v128_t vmean = wasm_f64x2_splat(mean), vrstd = wasm_f64x2_splat(rstd);
        v128_t sums_g = wasm_f64x2_splat(0), sums_gx = sums_g;
        int c = 0;
        for (; c + 2 <= width; c += 2) {
          v128_t d = load2d(dyr + c);
          v128_t h = wasm_f64x2_mul(wasm_f64x2_sub(load2d(xr + c), vmean), vrstd);
          v128_t g = wasm_f64x2_mul(d, load2d(gamma + c));
          sums_g = wasm_f64x2_add(sums_g, g);
          sums_gx = wasm_f64x2_add(sums_gx, wasm_f64x2_mul(g, h));
          wasm_v128_store(acc_gamma + c, wasm_f64x2_add(wasm_v128_load(acc_gamma + c), wasm_f64x2_mul(d, h)));
          wasm_v128_store(acc_beta + c, wasm_f64x2_add(wasm_v128_load(acc_beta + c), d));
        }
        double sum_g = lanes_sum(sums_g), sum_gx = lanes_sum(sums_gx);
        for (; c < width; c++) {
          double d = dyr[c];
          double h = ((double)xr[c] - mean) * rstd;
          double g = d * gamma[c];
          sum_g += g;
          sum_gx += g * h;
          acc_gamma[c] += d * h;
          acc_beta[c] += d;
        }
        double mean_g = sum_g / width, mean_gx = sum_gx / width;
        /* dx in float, four lanes at a time (the sums above stay in double). */
        float mean_f = (float)mean, rstd_f = (float)rstd, mean_g_f = (float)mean_g, mean_gx_f = (float)mean_gx;
        v128_t fmean = wasm_f32x4_splat(mean_f), frstd = wasm_f32x4_splat(rstd_f), fmean_g = wasm_f32x4_splat(mean_g_f), fmean_gx = wasm_f32x4_splat(mean_gx_f);
        for (c = 0; c + 4 <= width; c += 4) {
          v128_t centred = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), fmean), frstd), fmean_gx);
          v128_t inner = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(dyr + c), wasm_v128_load(gamma + c)), fmean_g), centred);
          wasm_v128_store(dxr + c, wasm_f32x4_mul(frstd, inner));
        }
        for (; c < width; c++) dxr[c] = rstd_f * (dyr[c] * gamma[c] - mean_g_f - (xr[c] - mean_f) * rstd_f * mean_gx_f);
      }
    }
  }
}

/* args: partials, blocks, width, dgamma, dbeta — the blocks' sums added in order, chunks of columns. */
__attribute__((export_name("layerNormGradReduce"))) void layer_norm_grad_reduce(const double *args, int part, int parts) {
  const double *partials = ARG_PTR(const double, 0);
  int blocks = ARG_INT(1), width = ARG_INT(2);
  float *dgamma = ARG_PTR(float, 3), *dbeta = ARG_PTR(float, 4);
  int chunks = chunk_count(width, parts, 64);
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(width, chunks, chunk, &begin, &end);
    for (int c = begin; c < end; c++) {
      double sum_gamma = 0, sum_beta = 0;
      for (int block = 0; block < blocks; block++) {
        sum_gamma += partials[block * 2 * width + c];
        sum_beta += partials[block * 2 * width + width + c];
      }
      dgamma[c] = (float)sum_gamma;
      dbeta[c] = (float)sum_beta;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Sums over leading axes (bias gradients): each column summed over the rows in order, in double */

/* args: x, outer, inner, out — chunks of 16-column groups (one cache line per row). */
__attribute__((export_name("columnSum"))) void column_sum(const double *args, int part, int parts) {
  const float *x = ARG_PTR(const float, 0);
  int outer = ARG_INT(1), inner = ARG_INT(2);
  float *out = ARG_PTR(float, 3);
  int groups = (inner + 15) / 16;
  int chunks = chunk_count(groups, parts, units_per_chunk(16 * outer));
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(groups, chunks, chunk, &begin, &end);
    for (int g = begin; g < end; g++) {
      int j0 = g * 16;
      if (j0 + 16 <= inner) {
        v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int i = 0; i < outer; i++) {
          const float *row = x + i * inner + j0;
          v128_t a = wasm_v128_load(row), b = wasm_v128_load(row + 4), c = wasm_v128_load(row + 8), d = wasm_v128_load(row + 12);
          s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(a));
          s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(a, a, 2, 3, 2, 3)));
          s2 = wasm_f64x2_add(s2, wasm_f64x2_promote_low_f32x4(b));
          s3 = wasm_f64x2_add(s3, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(b, b, 2, 3, 2, 3)));
          s4 = wasm_f64x2_add(s4, wasm_f64x2_promote_low_f32x4(c));
          s5 = wasm_f64x2_add(s5, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(c, c, 2, 3, 2, 3)));
          s6 = wasm_f64x2_add(s6, wasm_f64x2_promote_low_f32x4(d));
          s7 = wasm_f64x2_add(s7, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(d, d, 2, 3, 2, 3)));
        }
        float *o = out + j0;
        wasm_v128_store64_lane(o, wasm_f32x4_demote_f64x2_zero(s0), 0);
        wasm_v128_store64_lane(o + 2, wasm_f32x4_demote_f64x2_zero(s1), 0);
        wasm_v128_store64_lane(o + 4, wasm_f32x4_demote_f64x2_zero(s2), 0);
        wasm_v128_store64_lane(o + 6, wasm_f32x4_demote_f64x2_zero(s3), 0);
        wasm_v128_store64_lane(o + 8, wasm_f32x4_demote_f64x2_zero(s4), 0);
        wasm_v128_store64_lane(o + 10, wasm_f32x4_demote_f64x2_zero(s5), 0);
        wasm_v128_store64_lane(o + 12, wasm_f32x4_demote_f64x2_zero(s6), 0);
        wasm_v128_store64_lane(o + 14, wasm_f32x4_demote_f64x2_zero(s7), 0);
      } else {
        for (int j = j0; j < inner; j++) {
          double s = 0;
          for (int i = 0; i < outer; i++) s += x[i * inner + j];
          out[j] = (float)s;
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* exp, erf, sigmoid approximations (the native addon's, vectorisable)                          */

/* exp(z) for z ≤ 0: z = n ln2 + r, degree-6 Taylor polynomial of exp(r), 2^n through the exponent bits; below −87: 0. */
static inline float exp_nonpositive(float z) {
  z = z < -87.0f ? -87.0f : z;
  int32_t n = (int32_t)(z * 1.44269504088896341f - 0.5f);
  float nf = (float)n;
  float r = z - nf * 0.693145751953125f - nf * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f + r * 0.0013888889f)))));
  union {
    int32_t i;
    float f;
  } scale = {.i = (n + 127) << 23};
  return p * scale.f;
}

/* TF.js's erf (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7). */
static inline float erf_approx(float v) {
  float a = __builtin_fabsf(v);
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  return __builtin_copysignf(1.0f - poly * exp_nonpositive(-a * a), v);
}

static inline float sigmoid_approx(float z) {
  float e = exp_nonpositive(-__builtin_fabsf(z));
  float s = 1.0f / (1.0f + e);
  return z >= 0 ? s : e * s;
}

/* The same three, four lanes at a time, each lane through the same float operations as above. */
#define F4(x) wasm_f32x4_splat(x)

static inline v128_t exp_nonpositive4(v128_t z) {
  z = wasm_f32x4_pmax(z, F4(-87.0f)); /* pmax(a, b) = a < b ? b : a: z below −87 becomes −87, a NaN stays NaN */
  v128_t n = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_sub(wasm_f32x4_mul(z, F4(1.44269504088896341f)), F4(0.5f)));
  v128_t nf = wasm_f32x4_convert_i32x4(n);
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(z, wasm_f32x4_mul(nf, F4(0.693145751953125f))), wasm_f32x4_mul(nf, F4(1.428606765330187e-06f)));
  v128_t p = wasm_f32x4_add(F4(0.008333334f), wasm_f32x4_mul(r, F4(0.0013888889f)));
  p = wasm_f32x4_add(F4(0.041666668f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(F4(0.16666667f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(F4(0.5f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(F4(1.0f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(F4(1.0f), wasm_f32x4_mul(r, p));
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

/* erf(v) given e = exp(−v²) (A&S 7.1.26's polynomial in t = 1 / (1 + p|v|)). */
static inline v128_t erf4_with_exp(v128_t v, v128_t e) {
  v128_t a = wasm_f32x4_abs(v);
  v128_t t = wasm_f32x4_div(F4(1.0f), wasm_f32x4_add(F4(1.0f), wasm_f32x4_mul(F4(0.3275911f), a)));
  v128_t poly = wasm_f32x4_sub(wasm_f32x4_mul(F4(1.061405429f), t), F4(1.453152027f));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, t), F4(1.421413741f));
  poly = wasm_f32x4_sub(wasm_f32x4_mul(poly, t), F4(0.284496736f));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, t), F4(0.254829592f));
  poly = wasm_f32x4_mul(poly, t);
  v128_t r = wasm_f32x4_sub(F4(1.0f), wasm_f32x4_mul(poly, e));
  return wasm_v128_bitselect(v, r, wasm_i32x4_splat((int32_t)0x80000000));
}

static inline v128_t erf4(v128_t v) {
  v128_t a = wasm_f32x4_abs(v);
  return erf4_with_exp(v, exp_nonpositive4(wasm_f32x4_mul(wasm_f32x4_neg(a), a)));
}

static inline v128_t sigmoid4(v128_t z) {
  v128_t e = exp_nonpositive4(wasm_f32x4_neg(wasm_f32x4_abs(z)));
  v128_t s = wasm_f32x4_div(F4(1.0f), wasm_f32x4_add(F4(1.0f), e));
  return wasm_v128_bitselect(s, wasm_f32x4_mul(e, s), wasm_f32x4_ge(z, F4(0.0f)));
}

/* ------------------------------------------------------------------------------------------ */
/* Softmax cross-entropy (core's PretrainSoftmaxCrossEntropy and its gradient)                   */

/* The first index of the row's largest value (NaNs never win), as `if (x[c] > x[best]) best = c`. */
static int row_argmax(const float *x, int n) {
  v128_t best4 = wasm_f32x4_splat(x[0]);
  int c = 0;
  for (; c + 4 <= n; c += 4) best4 = wasm_f32x4_pmax(best4, wasm_v128_load(x + c));
  float best = x[0];
  for (int lane = 0; lane < 4; lane++) {
    float v = lane == 0 ? wasm_f32x4_extract_lane(best4, 0) : lane == 1 ? wasm_f32x4_extract_lane(best4, 1) : lane == 2 ? wasm_f32x4_extract_lane(best4, 2) : wasm_f32x4_extract_lane(best4, 3);
    if (v > best) best = v;
  }
  for (; c < n; c++)
    if (x[c] > best) best = x[c];
  for (c = 0; c < n; c++)
    if (x[c] == best) return c;
  return 0; /* every value NaN */
}

/* out[c] = exp(x[c] − max) for one row; returns their sum (in double). */
static double exp_row(const float *x, float *out, int n, float max) {
  v128_t sums = wasm_f64x2_splat(0);
  v128_t vmax = wasm_f32x4_splat(max);
  int c = 0;
  for (; c + 4 <= n; c += 4) {
    v128_t e = exp_nonpositive4(wasm_f32x4_sub(wasm_v128_load(x + c), vmax));
    wasm_v128_store(out + c, e);
    sums = wasm_f64x2_add(sums, wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(e), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 2, 3))));
  }
  double sum = lanes_sum(sums);
  for (; c < n; c++) {
    out[c] = exp_nonpositive(x[c] - max);
    sum += out[c];
  }
  return sum;
}

/* args: logits, labels, rows, classes, exps, inverses, loss, hit — chunks of rows. */
__attribute__((export_name("softmaxXent"))) void softmax_xent(const double *args, int part, int parts) {
  const float *logits = ARG_PTR(const float, 0);
  const int32_t *labels = ARG_PTR(const int32_t, 1);
  int rows = ARG_INT(2), classes = ARG_INT(3);
  float *exps = ARG_PTR(float, 4), *inverses = ARG_PTR(float, 5), *loss = ARG_PTR(float, 6), *hit = ARG_PTR(float, 7);
  int chunks = chunk_count(rows, parts, units_per_chunk(classes));
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(rows, chunks, chunk, &begin, &end);
    for (int r = begin; r < end; r++) {
      const float *lr = logits + r * classes;
      float *er = exps + r * classes;
      int argmax = row_argmax(lr, classes);
      float max = lr[argmax];
      double sum = exp_row(lr, er, classes, max);
      inverses[r] = (float)(1.0 / sum);
      int label = labels[r];
      int counted = label >= 0 && label < classes;
      loss[r] = counted ? (float)((double)max + host_log(sum) - (double)lr[label]) : 0.0f;
      hit[r] = counted && argmax == label ? 1.0f : 0.0f;
    }
  }
}

/* args: exps, inverses, labels, rowScale, rows, classes, out — chunks of rows. */
__attribute__((export_name("softmaxXentGrad"))) void softmax_xent_grad(const double *args, int part, int parts) {
  const float *exps = ARG_PTR(const float, 0), *inverses = ARG_PTR(const float, 1);
  const int32_t *labels = ARG_PTR(const int32_t, 2);
  const float *row_scale = ARG_PTR(const float, 3);
  int rows = ARG_INT(4), classes = ARG_INT(5);
  float *out = ARG_PTR(float, 6);
  int chunks = chunk_count(rows, parts, units_per_chunk(classes));
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(rows, chunks, chunk, &begin, &end);
    for (int r = begin; r < end; r++) {
      const float *er = exps + r * classes;
      float *outr = out + r * classes;
      int label = labels[r];
      float scale = label >= 0 && label < classes ? row_scale[r] : 0.0f;
      if (scale == 0.0f) {
        for (int c = 0; c < classes; c++) outr[c] = 0.0f;
        continue;
      }
      float factor = scale * inverses[r];
      for (int c = 0; c < classes; c++) outr[c] = er[c] * factor;
      outr[label] -= scale;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* GELU (exact: x Φ(x) with erf; approximate: GPT-2's tanh form as x · sigmoid(2u)) and AdamW    */

#define SQRT1_2F 0.70710678118654752f
#define INV_SQRT_2PIF 0.39894228040143268f
#define SQRT_2_OVER_PIF 0.79788456080286536f

/* GELU of 4 lanes: forward (dy = 0) or dy · GELU′(x), in the scalar loops' operations. */
static inline v128_t gelu4(v128_t xi, v128_t dy, int has_dy, int approximate) {
  if (!approximate && !has_dy) return wasm_f32x4_mul(xi, wasm_f32x4_mul(wasm_f32x4_add(erf4(wasm_f32x4_mul(xi, F4(SQRT1_2F))), F4(1.0f)), F4(0.5f)));
  if (!approximate) {
    /* erf(x/√2) needs exp(−x²/2), the density's exponential: computed once for both. */
    v128_t e = exp_nonpositive4(wasm_f32x4_mul(wasm_f32x4_mul(xi, xi), F4(-0.5f)));
    v128_t cdf = wasm_f32x4_mul(wasm_f32x4_add(erf4_with_exp(wasm_f32x4_mul(xi, F4(SQRT1_2F)), e), F4(1.0f)), F4(0.5f));
    v128_t pdf = wasm_f32x4_mul(e, F4(INV_SQRT_2PIF));
    return wasm_f32x4_mul(dy, wasm_f32x4_add(cdf, wasm_f32x4_mul(xi, pdf)));
  }
  v128_t sq = wasm_f32x4_mul(xi, xi);
  v128_t u2 = wasm_f32x4_mul(wasm_f32x4_mul(xi, wasm_f32x4_add(wasm_f32x4_mul(sq, F4(0.044715f)), F4(1.0f))), F4(2.0f * SQRT_2_OVER_PIF));
  v128_t s = sigmoid4(u2);
  if (!has_dy) return wasm_f32x4_mul(xi, s);
  v128_t slope = wasm_f32x4_add(wasm_f32x4_mul(sq, F4(2.0f * SQRT_2_OVER_PIF * 3.0f * 0.044715f)), F4(2.0f * SQRT_2_OVER_PIF));
  v128_t ds = wasm_f32x4_mul(s, wasm_f32x4_sub(F4(1.0f), s));
  return wasm_f32x4_mul(dy, wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(xi, ds), slope)));
}

static inline float gelu1(float xi, const float *dy, int approximate) {
  if (!approximate && !dy) return xi * ((erf_approx(xi * SQRT1_2F) + 1.0f) * 0.5f);
  if (!approximate) {
    float cdf = (erf_approx(xi * SQRT1_2F) + 1.0f) * 0.5f;
    float pdf = exp_nonpositive(xi * xi * -0.5f) * INV_SQRT_2PIF;
    return *dy * (cdf + xi * pdf);
  }
  float sq = xi * xi;
  float s = sigmoid_approx(xi * (sq * 0.044715f + 1.0f) * (2.0f * SQRT_2_OVER_PIF));
  if (!dy) return xi * s;
  float slope = sq * (2.0f * SQRT_2_OVER_PIF * 3.0f * 0.044715f) + 2.0f * SQRT_2_OVER_PIF;
  return *dy * (s + xi * (s * (1.0f - s)) * slope);
}

/* args: x, dy (0: forward), out, n, approximate — chunks of 64-element blocks. */
__attribute__((export_name("gelu"))) void gelu(const double *args, int part, int parts) {
  const float *x = ARG_PTR(const float, 0), *dy = ARG_PTR(const float, 1);
  float *out = ARG_PTR(float, 2);
  int n = ARG_INT(3), approximate = ARG_INT(4);
  int chunks = element_chunks(n, parts);
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    element_range(n, chunks, chunk, &begin, &end);
    int i = begin;
    for (; i + 4 <= end; i += 4) {
      v128_t d = dy ? wasm_v128_load(dy + i) : F4(0.0f);
      wasm_v128_store(out + i, gelu4(wasm_v128_load(x + i), d, dy != 0, approximate));
    }
    for (; i < end; i++) out[i] = gelu1(x[i], dy ? dy + i : 0, approximate);
  }
}

/*
 * args: param, grad, expAvg, expAvgSq, paramOut, expAvgOut, expAvgSqOut, n, decay, beta1, 1−beta1,
 * beta2, 1−beta2, √biasCorrection2, eps, stepSize. Each operation rounded as the composed TF.js ops
 * round it (@pretrain/trainer's AdamW), scalars as tf.scalar rounds them.
 */
__attribute__((export_name("adamw"))) void adamw(const double *args, int part, int parts) {
  const float *p = ARG_PTR(const float, 0), *g = ARG_PTR(const float, 1), *m = ARG_PTR(const float, 2), *v = ARG_PTR(const float, 3);
  float *po = ARG_PTR(float, 4), *mo = ARG_PTR(float, 5), *vo = ARG_PTR(float, 6);
  int n = ARG_INT(7);
  float decay = (float)args[8], b1 = (float)args[9], omb1 = (float)args[10], b2 = (float)args[11], omb2 = (float)args[12], bc2 = (float)args[13],
        eps = (float)args[14], step_size = (float)args[15];
  int chunks = element_chunks(n, parts);
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    element_range(n, chunks, chunk, &begin, &end);
    int i = begin;
    for (; i + 4 <= end; i += 4) {
      v128_t gi = wasm_v128_load(g + i);
      v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), F4(b1)), wasm_f32x4_mul(gi, F4(omb1)));
      v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), F4(b2)), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), F4(omb2)));
      v128_t denom = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sqrt(vi), F4(bc2)), F4(eps));
      wasm_v128_store(po + i, wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(p + i), F4(decay)), wasm_f32x4_mul(wasm_f32x4_div(mi, denom), F4(step_size))));
      wasm_v128_store(mo + i, mi);
      wasm_v128_store(vo + i, vi);
    }
    for (; i < end; i++) {
      float mi = m[i] * b1 + g[i] * omb1;
      float vi = v[i] * b2 + (g[i] * g[i]) * omb2;
      float denom = __builtin_sqrtf(vi) / bc2 + eps;
      po[i] = p[i] * decay - (mi / denom) * step_size;
      mo[i] = mi;
      vo[i] = vi;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Element-wise Add, Sub, Mul, Div (one IEEE float operation each: the bits of TF.js's kernels)  */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_RSUB, OP_RDIV };

static inline v128_t op4(int op, v128_t a, v128_t b) {
  switch (op) {
    case OP_ADD: return wasm_f32x4_add(a, b);
    case OP_SUB: return wasm_f32x4_sub(a, b);
    case OP_MUL: return wasm_f32x4_mul(a, b);
    case OP_DIV: return wasm_f32x4_div(a, b);
    case OP_RSUB: return wasm_f32x4_sub(b, a);
    default: return wasm_f32x4_div(b, a);
  }
}

static inline float op1(int op, float a, float b) {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_RSUB: return b - a;
    default: return b / a;
  }
}

/* out[k] = x[k] op y[k] for k < count (y_step 1), or x[k] op y[0] (y_step 0). */
static void binary_run(int op, const float *x, const float *y, int y_step, float *o, int count) {
  int k = 0;
  if (y_step) {
    for (; k + 4 <= count; k += 4) wasm_v128_store(o + k, op4(op, wasm_v128_load(x + k), wasm_v128_load(y + k)));
    for (; k < count; k++) o[k] = op1(op, x[k], y[k]);
  } else {
    v128_t b = wasm_f32x4_splat(y[0]);
    for (; k + 4 <= count; k += 4) wasm_v128_store(o + k, op4(op, wasm_v128_load(x + k), b));
    for (; k < count; k++) o[k] = op1(op, x[k], y[0]);
  }
}

/*
 * args: op (0–5: add, sub, mul, div, small − full, small / full), full, small, out, length, period, block.
 * out = full op small, where small repeats every `period` elements (block = 0; period = length: same
 * shapes, 1: a scalar) or holds one value per `period` elements (block = 1). Chunks of whole periods,
 * or of elements when one period is the whole array.
 */
__attribute__((export_name("binary"))) void binary(const double *args, int part, int parts) {
  int op = ARG_INT(0);
  const float *full = ARG_PTR(const float, 1), *small = ARG_PTR(const float, 2);
  float *out = ARG_PTR(float, 3);
  int length = ARG_INT(4), period = ARG_INT(5), block = ARG_INT(6);
  if (!block && (period == length || period == 1)) {
    /* Same shapes or a scalar: chunks of 64-element blocks. */
    int chunks = element_chunks(length, parts);
    FOR_EACH_CHUNK(args, chunks, chunk) {
      int begin, end;
      element_range(length, chunks, chunk, &begin, &end);
      binary_run(op, full + begin, period == 1 ? small : small + begin, period == 1 ? 0 : 1, out + begin, end - begin);
    }
    return;
  }
  int rows = length / period;
  int chunks = chunk_count(rows, parts, units_per_chunk(period));
  FOR_EACH_CHUNK(args, chunks, chunk) {
    int begin, end;
    chunk_range(rows, chunks, chunk, &begin, &end);
    for (int r = begin; r < end; r++) binary_run(op, full + r * period, block ? small + r : small, block ? 0 : 1, out + r * period, period);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Dropout masks                                                                               */

static inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/*
 * args: state (4 × int32, advanced in place), mask, length, threshold, scale. @pretrain/core's
 * Rng.fillDropoutMask: xoshiro128**, two keep/drop decisions per draw (low 16 bits, then high: kept
 * when below threshold), `scale` where kept, 0 where dropped. One sequential stream: one thread.
 */
__attribute__((export_name("dropoutMask"))) void dropout_mask(const double *args, int part, int parts) {
  int32_t *state = ARG_PTR(int32_t, 0);
  float *mask = ARG_PTR(float, 1);
  int length = ARG_INT(2);
  uint32_t limit = (uint32_t)ARG_INT(3);
  union {
    float f;
    uint32_t u;
  } scale = {.f = (float)args[4]};
  uint32_t *out = (uint32_t *)mask; /* written as bit patterns: a select without a branch */
  if (take_chunk(args) != 0) return; /* one chunk: whoever takes it */
  uint32_t s0 = (uint32_t)state[0], s1 = (uint32_t)state[1], s2 = (uint32_t)state[2], s3 = (uint32_t)state[3];
  for (int i = 0; i < length; i += 2) {
    uint32_t bits = rotl32(s1 * 5u, 7) * 9u;
    uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl32(s3, 11);
    out[i] = scale.u & -(uint32_t)((bits & 0xffffu) < limit);
    if (i + 1 < length) out[i + 1] = scale.u & -(uint32_t)((bits >> 16) < limit);
  }
  state[0] = (int32_t)s0;
  state[1] = (int32_t)s1;
  state[2] = (int32_t)s2;
  state[3] = (int32_t)s3;
}
