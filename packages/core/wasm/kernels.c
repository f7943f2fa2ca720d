/*
 * Row-wise and element-wise kernels for the wasm backend, in the same module as gemm.c and run the
 * same way: on tfjs-backend-wasm's heap, each call split into `parts` by the caller (one part per
 * thread; see src/kernels/wasm/simd-gemm.ts). Every function reads its arguments from an array of
 * doubles (heap offsets, sizes and scalars, each exact in a double) and does part `part` of `parts`.
 * Work is divided so that no result depends on `parts`: each output element is computed by one part,
 * and sums over rows are taken in fixed 64-row blocks whose partials are added in order.
 *
 * The math follows core's JS kernels (layer-norm.ts, losses.ts, nn.ts's GELU) and the native addon
 * (packages/backend-native/native/pretrain_native.c), whose exp/erf approximations are the same.
 */
#include <stdint.h>
#include <wasm_simd128.h>

/* Math.log from the host: wasm has no logarithm instruction, and this is one call per row. */
__attribute__((import_module("env"), import_name("log"))) double host_log(double);

#define ARG_PTR(type, i) ((type *)(uintptr_t)args[i])
#define ARG_INT(i) ((int)args[i])

/* [begin, end) of n items for this part. */
static inline void part_range(int n, int part, int parts, int *begin, int *end) {
  *begin = (int)((long long)n * part / parts);
  *end = (int)((long long)n * (part + 1) / parts);
}

/* ------------------------------------------------------------------------------------------ */
/* LayerNorm over the last axis, as core's layerNormRows (double statistics, one rounding)      */

static void row_stats(const float *x, int width, double eps, double *mean, double *rstd) {
  double sum = 0, squares = 0;
  for (int c = 0; c < width; c++) {
    double v = x[c];
    sum += v;
    squares += v * v;
  }
  double mu = sum / width;
  double variance = squares / width - mu * mu;
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
  int begin, end;
  part_range(rows, part, parts, &begin, &end);
  for (int r = begin; r < end; r++) {
    const float *xr = x + r * width;
    float *yr = y + r * width;
    double mean, rstd;
    row_stats(xr, width, eps, &mean, &rstd);
    for (int c = 0; c < width; c++) yr[c] = (float)(((double)xr[c] - mean) * rstd * gamma[c] + beta[c]);
  }
}

#define LN_BLOCK_ROWS 64

/* args: dy, x, gamma, dx, rows, width, eps, partials (per 64-row block: width sums for γ, then width for β, doubles) */
__attribute__((export_name("layerNormGrad"))) void layer_norm_grad(const double *args, int part, int parts) {
  const float *dy = ARG_PTR(const float, 0), *x = ARG_PTR(const float, 1), *gamma = ARG_PTR(const float, 2);
  float *dx = ARG_PTR(float, 3);
  int rows = ARG_INT(4), width = ARG_INT(5);
  double eps = args[6];
  double *partials = ARG_PTR(double, 7);
  int blocks = (rows + LN_BLOCK_ROWS - 1) / LN_BLOCK_ROWS, begin, end;
  part_range(blocks, part, parts, &begin, &end);
  for (int block = begin; block < end; block++) {
    double *acc_gamma = partials + block * 2 * width, *acc_beta = acc_gamma + width;
    for (int c = 0; c < 2 * width; c++) acc_gamma[c] = 0;
    int last = (block + 1) * LN_BLOCK_ROWS < rows ? (block + 1) * LN_BLOCK_ROWS : rows;
    for (int r = block * LN_BLOCK_ROWS; r < last; r++) {
      const float *xr = x + r * width, *dyr = dy + r * width;
      float *dxr = dx + r * width;
      double mean, rstd;
      row_stats(xr, width, eps, &mean, &rstd);
      double sum_g = 0, sum_gx = 0;
      for (int c = 0; c < width; c++) {
        double d = dyr[c];
        double h = ((double)xr[c] - mean) * rstd;
        double g = d * gamma[c];
        sum_g += g;
        sum_gx += g * h;
        acc_gamma[c] += d * h;
        acc_beta[c] += d;
      }
      double mean_g = sum_g / width, mean_gx = sum_gx / width;
      for (int c = 0; c < width; c++) dxr[c] = (float)(rstd * ((double)dyr[c] * gamma[c] - mean_g - ((double)xr[c] - mean) * rstd * mean_gx));
    }
  }
}

/* args: partials, blocks, width, dgamma, dbeta — the blocks' sums added in order, columns split across parts. */
__attribute__((export_name("layerNormGradReduce"))) void layer_norm_grad_reduce(const double *args, int part, int parts) {
  const double *partials = ARG_PTR(const double, 0);
  int blocks = ARG_INT(1), width = ARG_INT(2);
  float *dgamma = ARG_PTR(float, 3), *dbeta = ARG_PTR(float, 4);
  int begin, end;
  part_range(width, part, parts, &begin, &end);
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

/* ------------------------------------------------------------------------------------------ */
/* Sums over leading axes (bias gradients): each column summed over the rows in order, in double */

/* args: x, outer, inner, out — columns split across parts (groups of 16: one cache line per row). */
__attribute__((export_name("columnSum"))) void column_sum(const double *args, int part, int parts) {
  const float *x = ARG_PTR(const float, 0);
  int outer = ARG_INT(1), inner = ARG_INT(2);
  float *out = ARG_PTR(float, 3);
  int groups = (inner + 15) / 16, begin, end;
  part_range(groups, part, parts, &begin, &end);
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

/* ------------------------------------------------------------------------------------------ */
/* Softmax cross-entropy (core's PretrainSoftmaxCrossEntropy and its gradient)                   */

/* args: logits, labels, rows, classes, exps, inverses, loss, hit — rows split across parts. */
__attribute__((export_name("softmaxXent"))) void softmax_xent(const double *args, int part, int parts) {
  const float *logits = ARG_PTR(const float, 0);
  const int32_t *labels = ARG_PTR(const int32_t, 1);
  int rows = ARG_INT(2), classes = ARG_INT(3);
  float *exps = ARG_PTR(float, 4), *inverses = ARG_PTR(float, 5), *loss = ARG_PTR(float, 6), *hit = ARG_PTR(float, 7);
  int begin, end;
  part_range(rows, part, parts, &begin, &end);
  for (int r = begin; r < end; r++) {
    const float *lr = logits + r * classes;
    float *er = exps + r * classes;
    int argmax = 0;
    for (int c = 1; c < classes; c++)
      if (lr[c] > lr[argmax]) argmax = c;
    float max = lr[argmax];
    for (int c = 0; c < classes; c++) er[c] = exp_nonpositive(lr[c] - max);
    double sum = 0;
    for (int c = 0; c < classes; c++) sum += er[c];
    inverses[r] = (float)(1.0 / sum);
    int label = labels[r];
    int counted = label >= 0 && label < classes;
    loss[r] = counted ? (float)((double)max + host_log(sum) - (double)lr[label]) : 0.0f;
    hit[r] = counted && argmax == label ? 1.0f : 0.0f;
  }
}

/* args: exps, inverses, labels, rowScale, rows, classes, out — rows split across parts. */
__attribute__((export_name("softmaxXentGrad"))) void softmax_xent_grad(const double *args, int part, int parts) {
  const float *exps = ARG_PTR(const float, 0), *inverses = ARG_PTR(const float, 1);
  const int32_t *labels = ARG_PTR(const int32_t, 2);
  const float *row_scale = ARG_PTR(const float, 3);
  int rows = ARG_INT(4), classes = ARG_INT(5);
  float *out = ARG_PTR(float, 6);
  int begin, end;
  part_range(rows, part, parts, &begin, &end);
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

/* ------------------------------------------------------------------------------------------ */
/* GELU (exact: x Φ(x) with erf; approximate: GPT-2's tanh form as x · sigmoid(2u)) and AdamW    */

#define SQRT1_2F 0.70710678118654752f
#define INV_SQRT_2PIF 0.39894228040143268f
#define SQRT_2_OVER_PIF 0.79788456080286536f

/* args: x, dy (0: forward), out, n, approximate — elements split across parts (multiples of 64). */
__attribute__((export_name("gelu"))) void gelu(const double *args, int part, int parts) {
  const float *x = ARG_PTR(const float, 0), *dy = ARG_PTR(const float, 1);
  float *out = ARG_PTR(float, 2);
  int n = ARG_INT(3), approximate = ARG_INT(4);
  int begin, end;
  part_range((n + 63) / 64, part, parts, &begin, &end);
  begin *= 64;
  end = end * 64 < n ? end * 64 : n;
  if (!approximate && !dy) {
    for (int i = begin; i < end; i++) out[i] = x[i] * ((erf_approx(x[i] * SQRT1_2F) + 1.0f) * 0.5f);
  } else if (!approximate) {
    for (int i = begin; i < end; i++) {
      float xi = x[i];
      float cdf = (erf_approx(xi * SQRT1_2F) + 1.0f) * 0.5f;
      float pdf = exp_nonpositive(xi * xi * -0.5f) * INV_SQRT_2PIF;
      out[i] = dy[i] * (cdf + xi * pdf);
    }
  } else if (!dy) {
    for (int i = begin; i < end; i++) {
      float xi = x[i];
      out[i] = xi * sigmoid_approx(xi * (xi * xi * 0.044715f + 1.0f) * (2.0f * SQRT_2_OVER_PIF));
    }
  } else {
    for (int i = begin; i < end; i++) {
      float xi = x[i];
      float sq = xi * xi;
      float s = sigmoid_approx(xi * (sq * 0.044715f + 1.0f) * (2.0f * SQRT_2_OVER_PIF));
      float slope = sq * (2.0f * SQRT_2_OVER_PIF * 3.0f * 0.044715f) + 2.0f * SQRT_2_OVER_PIF;
      out[i] = dy[i] * (s + xi * (s * (1.0f - s)) * slope);
    }
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
  int begin, end;
  part_range((n + 63) / 64, part, parts, &begin, &end);
  begin *= 64;
  end = end * 64 < n ? end * 64 : n;
  for (int i = begin; i < end; i++) {
    float mi = m[i] * b1 + g[i] * omb1;
    float vi = v[i] * b2 + (g[i] * g[i]) * omb2;
    float denom = __builtin_sqrtf(vi) / bc2 + eps;
    po[i] = p[i] * decay - (mi / denom) * step_size;
    mo[i] = mi;
    vo[i] = vi;
  }
}
