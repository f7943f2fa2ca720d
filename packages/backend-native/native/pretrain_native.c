/*
 * @pretrain/backend-native: the kernels that dominate a training step, as native code working in
 * place on Float32Array / Int32Array views (the TF.js wasm backend's heap: no copies).
 *
 *   sgemm(a, b, c, m, n, k, transA, transB, batch, aStride, bStride, bias | null)
 *       c[i] = op(a[i]) · op(b[i]) (+ bias per row) for i < batch; row-major; strides in elements
 *       (0 = the operand is shared by every batch). OpenBLAS's cblas_sgemm.
 *   layerNorm(x, gamma, beta, rows, width, eps, y)
 *   layerNormGrad(dy, x, gamma, rows, width, eps, dx, dgamma, dbeta)
 *   softmaxXent(logits, labels, rows, classes, exps, inverses, loss, hit)
 *   softmaxXentGrad(exps, inverses, labels, rowScale, rows, classes, out)
 *       the same math as @pretrain/core's LayerNorm and softmax cross-entropy kernels (layer-norm.ts,
 *       losses.ts): row statistics and parameter-gradient sums in double, exp(logit − max) kept for
 *       the backward pass with 1 / Σ per row.
 *   columnSum(x, outer, inner, out)       out[j] = Σ_i x[i·inner + j] (double accumulators)
 *   erf(x, y)                             TF.js's erf formula (A&S 7.1.26), vectorised
 *   adamw(p, g, m, v, pOut, mOut, vOut, decay, β1, 1−β1, β2, 1−β2, √bc2, eps, stepSize)
 *                                         one AdamW update, rounded as @pretrain/trainer's composed ops
 *   gelu(x, dy | null, out, approximate)  GELU (erf or GPT-2's tanh form) forward, or dx when dy is given
 *   linearXent(hidden, weight, labels, rows, width, classes, scale, loss, hit, dHidden | null, dWeight | null)
 *                                         logits = hidden · weightᵀ and softmaxXent in chunks of rows; with
 *                                         dHidden/dWeight also the gradients of scale · Σ loss (no full logits)
 *   binary(op, full, small, out, period, block)
 *                                         out = full op small: Add, Sub, Mul, Div (and Sub, Div reversed), small
 *                                         repeated every `period` elements, or one value per `period` (block)
 *   dropoutMask(state, mask, threshold, scale)
 *                                         @pretrain/core's Rng.fillDropoutMask (xoshiro128**), state updated
 *   setThreads(n), threads(), config()    OpenBLAS's threads, which also split the element-wise and row-wise
 *                                         kernels (each output element computed by one thread: results do
 *                                         not depend on the count)
 *
 * Every length is checked against the shapes before any memory is touched (RangeError otherwise).
 */
#include <cblas.h>
#ifdef PRETRAIN_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

#define CHECK(call)                                                                   \
  if ((call) != napi_ok) {                                                            \
    napi_throw_type_error(env, NULL, "pretrain_native: bad argument (" #call ")");   \
    return NULL;                                                                      \
  }

#define REQUIRE(cond, message)                    \
  if (!(cond)) {                                  \
    napi_throw_range_error(env, NULL, message);   \
    return NULL;                                  \
  }

/*
 * Loops marked VECTOR_CLONES are compiled once per x86-64 level (GCC/clang function multiversioning, picked at
 * load by the CPU): AVX-512, AVX2 and the SSE2 baseline, so the binary runs on any x86-64. Each
 * operation is the same float operation in every version (-ffp-contract=off: no fused multiply-add),
 * so every version computes the same bits.
 */
#if defined(__x86_64__) && defined(__GLIBC__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* ------------------------------------------------------------------------------------------ */
/* Two cores for the element-wise and row-wise kernels                                          */

/*
 * The threads setThreads gives OpenBLAS also split the kernels below: parallel_for runs fn over
 * [0, n) in `threads` contiguous ranges (the calling thread takes the first), each at least `grain`
 * long. Every output element is computed by exactly one thread in the same order as with one
 * thread, so results do not depend on the thread count.
 *
 * The helper threads are started once. Between jobs they wait: first spinning (~50 µs), then
 * yielding the core in a loop (~1 ms: any other thread that wants the core gets it), then asleep on a
 * condition variable. Waking a sleeping thread took ~60 µs on the 2-core VM (a thread start 40–60 µs),
 * as long as a small kernel; during a training step the next kernel comes within the yielding window.
 * Only one caller uses the pool at a time (Node worker threads may each load the addon); a second
 * caller meanwhile runs its job alone.
 */
static int pool_threads = 1;

typedef void (*range_fn)(const void *ctx, size_t begin, size_t end);

#define MAX_THREADS 16

static struct {
  pthread_mutex_t mutex, busy;
  pthread_cond_t wake, done;
  int started;                  /* helper threads running */
  unsigned long generation;     /* bumped for each job */
  int pending;                  /* helpers still working on the current job */
  range_fn fn;
  const void *ctx;
  size_t n, chunk;
  int parts;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, NULL, 0, 0, 0};

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* The wait between jobs: pauses (~25 ns each), then sched_yield calls (~0.5 µs each), then sleep. */
#define POOL_SPINS 2000
#define POOL_YIELDS 2000

static void *pool_worker(void *arg) {
  size_t index = (size_t)arg;
  unsigned long seen = 0;
  for (;;) {
    for (int spin = 0; spin < POOL_SPINS && __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE) == seen; spin++) cpu_relax();
    for (int spin = 0; spin < POOL_YIELDS && __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE) == seen; spin++) sched_yield();
    pthread_mutex_lock(&pool.mutex);
    while (pool.generation == seen) pthread_cond_wait(&pool.wake, &pool.mutex);
    seen = pool.generation;
    range_fn fn = pool.fn;
    const void *ctx = pool.ctx;
    size_t n = pool.n, chunk = pool.chunk;
    bool mine = (int)index < pool.parts;
    pthread_mutex_unlock(&pool.mutex);
    if (mine) {
      size_t begin = index * chunk, end = begin + chunk < n ? begin + chunk : n;
      if (begin < end) fn(ctx, begin, end);
    }
    pthread_mutex_lock(&pool.mutex);
    if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    pthread_mutex_unlock(&pool.mutex);
  }
  return NULL;
}

/* Starts helpers up to `wanted` (they are never stopped: a handful of idle threads). */
static int pool_grow(int wanted) {
  while (pool.started < wanted) {
    pthread_t id;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&id, &attr, pool_worker, (void *)(size_t)(pool.started + 1));
    pthread_attr_destroy(&attr);
    if (failed) break;
    pool.started++;
  }
  return pool.started;
}

static void parallel_for(range_fn fn, const void *ctx, size_t n, size_t grain) {
  size_t parts = (size_t)pool_threads;
  if (grain < 1) grain = 1;
  if (parts > n / grain) parts = n / grain;
  if (parts > MAX_THREADS) parts = MAX_THREADS;
  if (parts <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&pool.mutex);
  int helpers = pool_grow((int)parts - 1);
  if ((size_t)helpers < parts - 1) parts = (size_t)helpers + 1;
  size_t chunk = (n + parts - 1) / parts;
  pool.fn = fn;
  pool.ctx = ctx;
  pool.n = n;
  pool.chunk = chunk;
  pool.parts = (int)parts;
  pool.pending = helpers; /* every helper acknowledges the job, working or not */
  __atomic_add_fetch(&pool.generation, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mutex);
  fn(ctx, 0, chunk < n ? chunk : n);
  pthread_mutex_lock(&pool.mutex);
  while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.mutex);
  pthread_mutex_unlock(&pool.mutex);
  pthread_mutex_unlock(&pool.busy);
}

/* Ranges of rows: at least this many elements per thread (handing a range to a helper costs microseconds). */
#define GRAIN_ELEMENTS 32768
static size_t row_grain(size_t width) { return width == 0 ? GRAIN_ELEMENTS : (GRAIN_ELEMENTS + width - 1) / width; }

static void *typed(napi_env env, napi_value value, napi_typedarray_type want, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  size_t offset;
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset) != napi_ok || type != want) return NULL;
  return data;
}

static float *floats(napi_env env, napi_value value, size_t *length) { return (float *)typed(env, value, napi_float32_array, length); }
static int32_t *ints(napi_env env, napi_value value, size_t *length) { return (int32_t *)typed(env, value, napi_int32_array, length); }

static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *args) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok) return false;
  return argc >= want;
}

/* ------------------------------------------------------------------------------------------ */
/* Matrix products                                                                            */

/*
 * Products split across the threads by the pool above, each piece on one OpenBLAS thread (setThreads
 * keeps OpenBLAS itself at 1): one pool of helper threads for every kernel, instead of OpenBLAS's and
 * ours taking turns to wake on the second core (a sleeping thread took ~60 µs to wake on the 2-core
 * VM, as long as a small kernel). A batch is split by products; a single product by blocks of rows or
 * of columns (whichever is larger), each C element still one dot product in OpenBLAS's order.
 */
struct sgemm_ctx {
  const float *a, *b;
  float *c;
  const float *bias;
  int32_t m, n, k, aStride, bStride;
  bool ta, tb;
  int32_t row_parts, col_parts, row_chunk, col_chunk;
  bool accumulate; /* c += product (beta 1) instead of c = product */
};

/* ------------------------------------------------------------------------------------------ */
/* bfloat16 products (optional: built with oneDNN, chosen by setPrecision("bfloat16"))          */

/*
 * With precision bfloat16, each block of a product (the same blocks and threads as above) has its
 * operands rounded to bfloat16 (round to nearest even; the block of A as rows × k and of B as k × cols,
 * row-major, whatever their stored transposes) and multiplied by oneDNN's bf16 matmul with float32
 * output (AVX-512 BF16 / AMX where the CPU has them). oneDNN runs single-threaded inside each block
 * (OMP_NUM_THREADS=1, set by the loader): the pool splits the work, so the split is the float32 one.
 * Primitives are cached by block shape.
 */
static int use_bf16 = 0;

#ifdef PRETRAIN_ONEDNN
static dnnl_engine_t dnnl_cpu_engine;
static pthread_once_t dnnl_once = PTHREAD_ONCE_INIT;
static void dnnl_init(void) { dnnl_engine_create(&dnnl_cpu_engine, dnnl_cpu, 0); }

#define BF16_CACHE 64
static struct {
  int32_t rows, cols, k, ldc;
  bool ta, tb, sum;
  dnnl_primitive_t matmul;
  size_t scratchpad;
} bf16_cache[BF16_CACHE];
static int bf16_cached = 0;
static pthread_mutex_t bf16_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The bf16 operand layouts of a block: A as rows × k (ta: stored k-major), B as k × cols (tb: stored cols-major). */
static void bf16_descs(int32_t rows, int32_t cols, int32_t k, bool ta, bool tb, dnnl_memory_desc_t *a, dnnl_memory_desc_t *b) {
  dnnl_dims_t ad = {rows, k}, bd = {k, cols};
  dnnl_dims_t as = {ta ? 1 : k, ta ? rows : 1}, bs = {tb ? 1 : cols, tb ? k : 1};
  dnnl_memory_desc_init_by_strides(a, 2, ad, dnnl_bf16, as);
  dnnl_memory_desc_init_by_strides(b, 2, bd, dnnl_bf16, bs);
}

/*
 * The block shape's matmul (created once, cached), with a user-managed scratchpad: a primitive run by
 * several pool threads at once must not share oneDNN's library scratchpad.
 */
static dnnl_primitive_t bf16_matmul(int32_t rows, int32_t cols, int32_t k, bool ta, bool tb, bool sum, int32_t ldc, size_t *scratchpad) {
  pthread_mutex_lock(&bf16_cache_lock);
  dnnl_primitive_t found = NULL;
  for (int i = 0; i < bf16_cached && !found; i++)
    if (bf16_cache[i].rows == rows && bf16_cache[i].cols == cols && bf16_cache[i].k == k && bf16_cache[i].ldc == ldc && bf16_cache[i].ta == ta && bf16_cache[i].tb == tb &&
        bf16_cache[i].sum == sum) {
      found = bf16_cache[i].matmul;
      *scratchpad = bf16_cache[i].scratchpad;
    }
  if (!found) {
    dnnl_memory_desc_t a, b, c;
    dnnl_dims_t cd = {rows, cols}, cs = {ldc, 1};
    bf16_descs(rows, cols, k, ta, tb, &a, &b);
    dnnl_memory_desc_init_by_strides(&c, 2, cd, dnnl_f32, cs);
    dnnl_matmul_desc_t desc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_matmul_desc_init(&desc, &a, &b, NULL, &c) == dnnl_success && dnnl_primitive_attr_create(&attr) == dnnl_success) {
      dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
      if (sum && dnnl_post_ops_create(&post) == dnnl_success) {
        dnnl_post_ops_append_sum(post, 1.0f); /* C += A·B: the bias or the earlier chunks already in C */
        dnnl_primitive_attr_set_post_ops(attr, post);
      }
      if (dnnl_primitive_desc_create(&pd, &desc, attr, dnnl_cpu_engine, NULL) == dnnl_success && dnnl_primitive_create(&found, pd) == dnnl_success) {
        const dnnl_memory_desc_t *sd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        *scratchpad = sd ? dnnl_memory_desc_get_size(sd) : 0;
      }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (post) dnnl_post_ops_destroy(post);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (found) {
      /* A full cache evicts its oldest entry (a training step's blocks repeat, so this is rare). */
      if (bf16_cached == BF16_CACHE) {
        dnnl_primitive_destroy(bf16_cache[0].matmul);
        memmove(bf16_cache, bf16_cache + 1, sizeof(bf16_cache[0]) * (BF16_CACHE - 1));
        bf16_cached--;
      }
      bf16_cache[bf16_cached].rows = rows;
      bf16_cache[bf16_cached].cols = cols;
      bf16_cache[bf16_cached].k = k;
      bf16_cache[bf16_cached].ldc = ldc;
      bf16_cache[bf16_cached].ta = ta;
      bf16_cache[bf16_cached].tb = tb;
      bf16_cache[bf16_cached].sum = sum;
      bf16_cache[bf16_cached].matmul = found;
      bf16_cache[bf16_cached].scratchpad = *scratchpad;
      bf16_cached++;
    }
  }
  pthread_mutex_unlock(&bf16_cache_lock);
  return found;
}

static inline uint16_t to_bf16(float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u); /* NaN stays NaN */
  return (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

/* Per-thread bf16 operand buffers, scratchpad and stream. */
static __thread uint16_t *bf16_a, *bf16_b;
static __thread size_t bf16_a_size, bf16_b_size, bf16_pad_size;
static __thread void *bf16_pad;
static __thread dnnl_stream_t bf16_stream;

static void *grown(void **buffer, size_t *size, size_t bytes) {
  if (bytes > *size) {
    free(*buffer);
    *buffer = malloc(bytes);
    *size = *buffer ? bytes : 0;
  }
  return *buffer;
}

/* `count` runs of `length` floats, `stride` apart, into `out` back to back, rounded to bf16. */
VECTOR_CLONES static void to_bf16_runs(const float *in, size_t stride, int32_t count, int32_t length, uint16_t *out) {
  for (int32_t r = 0; r < count; r++)
    for (int32_t j = 0; j < length; j++) out[(size_t)r * length + j] = to_bf16(in[(size_t)r * stride + j]);
}

/*
 * One block in bf16: out rows [r0, r0 + rows) × columns [c0, c0 + cols) of the [m, n] product, summing
 * into what is there when `sum`. The operands' blocks are rounded in their stored layouts (contiguous
 * runs), and the matmul reads them through strides. Returns false (the caller then runs float32) if
 * oneDNN fails.
 */
static bool bf16_block(const float *a, const float *b, float *out, int32_t m, int32_t n, int32_t k, bool ta, bool tb, int32_t r0, int32_t rows, int32_t c0,
                       int32_t cols, bool sum) {
  pthread_once(&dnnl_once, dnnl_init);
  if (!dnnl_cpu_engine) return false;
  if (!bf16_stream && dnnl_stream_create(&bf16_stream, dnnl_cpu_engine, dnnl_stream_default_flags) != dnnl_success) return false;
  size_t pad = 0;
  dnnl_primitive_t matmul = bf16_matmul(rows, cols, k, ta, tb, sum, n, &pad);
  uint16_t *abuf = (uint16_t *)grown((void **)&bf16_a, &bf16_a_size, sizeof(uint16_t) * (size_t)rows * k);
  uint16_t *bbuf = (uint16_t *)grown((void **)&bf16_b, &bf16_b_size, sizeof(uint16_t) * (size_t)k * cols);
  void *scratch = pad ? grown(&bf16_pad, &bf16_pad_size, pad) : NULL;
  if (!matmul || !abuf || !bbuf || (pad && !scratch)) return false;
  /* A's block: rows of k (stored [m, k]) or k runs of `rows` (stored [k, m]); B's: k runs of `cols` or cols runs of k. */
  if (ta) to_bf16_runs(a + r0, (size_t)m, k, rows, abuf);
  else to_bf16_runs(a + (size_t)r0 * k, (size_t)k, rows, k, abuf);
  if (tb) to_bf16_runs(b + (size_t)c0 * k, (size_t)k, cols, k, bbuf);
  else to_bf16_runs(b + c0, (size_t)n, k, cols, bbuf);
  dnnl_memory_desc_t ad, bd, cd, sd;
  dnnl_dims_t cdims = {rows, cols}, cstrides = {n, 1}, sdims = {(dnnl_dim_t)pad};
  bf16_descs(rows, cols, k, ta, tb, &ad, &bd);
  dnnl_memory_desc_init_by_strides(&cd, 2, cdims, dnnl_f32, cstrides);
  dnnl_memory_desc_init_by_tag(&sd, 1, sdims, dnnl_u8, dnnl_a);
  dnnl_memory_t am = NULL, bm = NULL, cm = NULL, sm = NULL;
  bool ok = dnnl_memory_create(&am, &ad, dnnl_cpu_engine, abuf) == dnnl_success && dnnl_memory_create(&bm, &bd, dnnl_cpu_engine, bbuf) == dnnl_success &&
            dnnl_memory_create(&cm, &cd, dnnl_cpu_engine, out) == dnnl_success && (!pad || dnnl_memory_create(&sm, &sd, dnnl_cpu_engine, scratch) == dnnl_success);
  if (ok) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}, {DNNL_ARG_SCRATCHPAD, sm}};
    ok = dnnl_primitive_execute(matmul, bf16_stream, pad ? 4 : 3, args) == dnnl_success && dnnl_stream_wait(bf16_stream) == dnnl_success;
  }
  if (am) dnnl_memory_destroy(am);
  if (bm) dnnl_memory_destroy(bm);
  if (cm) dnnl_memory_destroy(cm);
  if (sm) dnnl_memory_destroy(sm);
  return ok;
}
#endif

/* Products below this many multiply-adds run on the calling thread alone. */
#define SGEMM_PARALLEL_MACS (1 << 20)

static void sgemm_block(const struct sgemm_ctx *x, size_t item, int32_t r0, int32_t r1, int32_t c0, int32_t c1) {
  int32_t m = x->m, n = x->n, k = x->k, rows = r1 - r0, cols = c1 - c0;
  if (rows <= 0 || cols <= 0) return;
  float *out = x->c + item * (size_t)m * n + (size_t)r0 * n + c0;
  float beta = x->accumulate ? 1.0f : 0.0f;
  if (x->bias) {
    for (int32_t r = 0; r < rows; r++) memcpy(out + (size_t)r * n, x->bias + c0, sizeof(float) * (size_t)cols);
    beta = 1.0f;
  }
  if (k == 0) {
    if (!x->bias && !x->accumulate)
      for (int32_t r = 0; r < rows; r++) memset(out + (size_t)r * n, 0, sizeof(float) * (size_t)cols);
    return;
  }
#ifdef PRETRAIN_ONEDNN
  /* bf16 (setPrecision): the same block through oneDNN; a block it cannot run stays float32. */
  if (use_bf16 && bf16_block(x->a + item * (size_t)x->aStride, x->b + item * (size_t)x->bStride, out, m, n, k, x->ta, x->tb, r0, rows, c0, cols, beta != 0.0f)) return;
#endif
  const float *a = x->a + item * (size_t)x->aStride + (x->ta ? (size_t)r0 : (size_t)r0 * k);
  const float *b = x->b + item * (size_t)x->bStride + (x->tb ? (size_t)c0 * k : (size_t)c0);
  cblas_sgemm(CblasRowMajor, x->ta ? CblasTrans : CblasNoTrans, x->tb ? CblasTrans : CblasNoTrans, rows, cols, k, 1.0f, a, x->ta ? m : k, b, x->tb ? k : n, beta,
              out, n);
}


/* Work units [begin, end): unit u is product u / parts, block u mod parts (rows, then columns). */
static void sgemm_units(const void *arg, size_t begin, size_t end) {
  const struct sgemm_ctx *x = (const struct sgemm_ctx *)arg;
  size_t parts = (size_t)x->row_parts * (size_t)x->col_parts;
  for (size_t u = begin; u < end; u++) {
    size_t item = u / parts, block = u % parts;
    int32_t ri = (int32_t)(block / (size_t)x->col_parts), ci = (int32_t)(block % (size_t)x->col_parts);
    int32_t r0 = ri * x->row_chunk, c0 = ci * x->col_chunk;
    int32_t r1 = r0 + x->row_chunk < x->m ? r0 + x->row_chunk : x->m, c1 = c0 + x->col_chunk < x->n ? c0 + x->col_chunk : x->n;
    sgemm_block(x, item, r0, r1, c0, c1);
  }
}

/* Block sizes in multiples of 16 (OpenBLAS's widest register tile), so pieces keep full tiles. */
static int32_t split_chunk(int32_t size, int32_t parts) {
  int32_t chunk = (size + parts - 1) / parts;
  return (chunk + 15) / 16 * 16;
}

static void sgemm_run(struct sgemm_ctx *x, int32_t batch) {
  x->row_parts = x->col_parts = 1;
  x->row_chunk = x->m;
  x->col_chunk = x->n;
  int32_t threads = pool_threads;
  double macs = (double)x->m * x->n * x->k * batch;
  if (threads >= 2 && batch < threads && macs >= SGEMM_PARALLEL_MACS) {
    if (x->m >= x->n) {
      x->row_chunk = split_chunk(x->m, threads);
      x->row_parts = (x->m + x->row_chunk - 1) / x->row_chunk;
    } else {
      x->col_chunk = split_chunk(x->n, threads);
      x->col_parts = (x->n + x->col_chunk - 1) / x->col_chunk;
    }
  }
  size_t units = (size_t)batch * (size_t)x->row_parts * (size_t)x->col_parts;
  if (threads < 2 || macs < SGEMM_PARALLEL_MACS) sgemm_units(x, 0, units);
  else parallel_for(sgemm_units, x, units, 1);
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value args[12];
  size_t argc = 12;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  REQUIRE(argc >= 11, "sgemm(a, b, c, m, n, k, transA, transB, batch, aStride, bStride, bias?)");
  size_t la = 0, lb = 0, lc = 0, lbias = 0;
  float *a = floats(env, args[0], &la), *b = floats(env, args[1], &lb), *c = floats(env, args[2], &lc);
  int32_t m, n, k, batch, aStride, bStride;
  bool ta, tb;
  CHECK(napi_get_value_int32(env, args[3], &m));
  CHECK(napi_get_value_int32(env, args[4], &n));
  CHECK(napi_get_value_int32(env, args[5], &k));
  CHECK(napi_get_value_bool(env, args[6], &ta));
  CHECK(napi_get_value_bool(env, args[7], &tb));
  CHECK(napi_get_value_int32(env, args[8], &batch));
  CHECK(napi_get_value_int32(env, args[9], &aStride));
  CHECK(napi_get_value_int32(env, args[10], &bStride));
  float *bias = NULL;
  if (argc > 11) {
    napi_valuetype t;
    CHECK(napi_typeof(env, args[11], &t));
    if (t != napi_null && t != napi_undefined) {
      bias = floats(env, args[11], &lbias);
      REQUIRE(bias != NULL, "sgemm: bias must be a Float32Array or null");
    }
  }
  REQUIRE(a && b && c, "sgemm: a, b and c must be Float32Arrays");
  REQUIRE(m >= 0 && n >= 0 && k >= 0 && batch >= 1 && aStride >= 0 && bStride >= 0, "sgemm: negative size or stride");
  REQUIRE((size_t)m * n * batch <= lc && (!bias || lbias >= (size_t)n) && (size_t)aStride * (batch - 1) + (size_t)m * k <= la &&
              (size_t)bStride * (batch - 1) + (size_t)k * n <= lb,
          "sgemm: operands too short for the shapes");
  struct sgemm_ctx ctx = {a, b, c, bias, m, n, k, aStride, bStride, ta, tb, 1, 1, m, n, false};
  sgemm_run(&ctx, batch);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* LayerNorm over the last axis (biased variance, eps inside the square root, as torch)         */

static void row_stats(const float *x, int32_t width, double eps, double *mean, double *rstd) {
  double sum = 0, squares = 0;
  for (int32_t c = 0; c < width; c++) {
    double v = x[c];
    sum += v;
    squares += v * v;
  }
  double mu = sum / width;
  double variance = squares / width - mu * mu;
  if (variance < 0) variance = 0;
  *mean = mu;
  *rstd = 1.0 / sqrt(variance + eps);
}

struct layer_norm_ctx {
  const float *x, *gamma, *beta;
  float *y;
  int32_t width;
  double eps;
};

static void layer_norm_rows(const void *arg, size_t begin, size_t end) {
  const struct layer_norm_ctx *c = (const struct layer_norm_ctx *)arg;
  for (size_t r = begin; r < end; r++) {
    const float *xr = c->x + r * c->width;
    float *yr = c->y + r * c->width;
    double mean, rstd;
    row_stats(xr, c->width, c->eps, &mean, &rstd);
    /* The same float rounding as core's JS loop: (x − mean) · rstd · γ + β in double, stored as float. */
    for (int32_t k = 0; k < c->width; k++) yr[k] = (float)(((double)xr[k] - mean) * rstd * c->gamma[k] + c->beta[k]);
  }
}

static napi_value LayerNorm(napi_env env, napi_callback_info info) {
  napi_value args[7];
  REQUIRE(get_args(env, info, 7, args), "layerNorm(x, gamma, beta, rows, width, eps, y)");
  size_t lx = 0, lg = 0, lb = 0, ly = 0;
  float *x = floats(env, args[0], &lx), *gamma = floats(env, args[1], &lg), *beta = floats(env, args[2], &lb), *y = floats(env, args[6], &ly);
  int32_t rows, width;
  double eps;
  CHECK(napi_get_value_int32(env, args[3], &rows));
  CHECK(napi_get_value_int32(env, args[4], &width));
  CHECK(napi_get_value_double(env, args[5], &eps));
  REQUIRE(x && gamma && beta && y, "layerNorm: x, gamma, beta and y must be Float32Arrays");
  REQUIRE(rows >= 0 && width >= 0, "layerNorm: negative size");
  size_t total = (size_t)rows * width;
  REQUIRE(lx >= total && ly >= total && lg >= (size_t)width && lb >= (size_t)width, "layerNorm: arrays too short for the shapes");
  struct layer_norm_ctx ctx = {x, gamma, beta, y, width, eps};
  parallel_for(layer_norm_rows, &ctx, (size_t)rows, row_grain((size_t)width));
  return NULL;
}

/*
 * The parameter gradients are sums over rows. Rows are taken in fixed blocks of LN_BLOCK_ROWS, each
 * block sums its rows in order into its own double accumulators, and the blocks are added in order:
 * threads take whole blocks, so the sums do not depend on the thread count.
 */
#define LN_BLOCK_ROWS 64

struct layer_norm_grad_ctx {
  const float *dy, *x, *gamma;
  float *dx;
  double *partials; /* per block: width sums for γ, then width for β */
  int32_t rows, width;
  double eps;
};

static void layer_norm_grad_blocks(const void *arg, size_t begin, size_t end) {
  const struct layer_norm_grad_ctx *c = (const struct layer_norm_grad_ctx *)arg;
  int32_t width = c->width;
  for (size_t block = begin; block < end; block++) {
    double *acc_gamma = c->partials + block * 2 * (size_t)width, *acc_beta = acc_gamma + width;
    memset(acc_gamma, 0, sizeof(double) * 2 * (size_t)width);
    size_t last = (block + 1) * LN_BLOCK_ROWS < (size_t)c->rows ? (block + 1) * LN_BLOCK_ROWS : (size_t)c->rows;
    for (size_t r = block * LN_BLOCK_ROWS; r < last; r++) {
      const float *xr = c->x + r * width, *dyr = c->dy + r * width;
      float *dxr = c->dx + r * width;
      double mean, rstd;
      row_stats(xr, width, c->eps, &mean, &rstd);
      double sum_g = 0, sum_gx = 0;
      for (int32_t k = 0; k < width; k++) {
        double d = dyr[k];
        double h = ((double)xr[k] - mean) * rstd;
        double g = d * c->gamma[k];
        sum_g += g;
        sum_gx += g * h;
        acc_gamma[k] += d * h;
        acc_beta[k] += d;
      }
      double mean_g = sum_g / width, mean_gx = sum_gx / width;
      for (int32_t k = 0; k < width; k++) dxr[k] = (float)(rstd * ((double)dyr[k] * c->gamma[k] - mean_g - ((double)xr[k] - mean) * rstd * mean_gx));
    }
  }
}

static napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  napi_value args[9];
  REQUIRE(get_args(env, info, 9, args), "layerNormGrad(dy, x, gamma, rows, width, eps, dx, dgamma, dbeta)");
  size_t ldy = 0, lx = 0, lg = 0, ldx = 0, ldg = 0, ldb = 0;
  float *dy = floats(env, args[0], &ldy), *x = floats(env, args[1], &lx), *gamma = floats(env, args[2], &lg);
  float *dx = floats(env, args[6], &ldx), *dgamma = floats(env, args[7], &ldg), *dbeta = floats(env, args[8], &ldb);
  int32_t rows, width;
  double eps;
  CHECK(napi_get_value_int32(env, args[3], &rows));
  CHECK(napi_get_value_int32(env, args[4], &width));
  CHECK(napi_get_value_double(env, args[5], &eps));
  REQUIRE(dy && x && gamma && dx && dgamma && dbeta, "layerNormGrad: every array must be a Float32Array");
  REQUIRE(rows >= 0 && width >= 0 && width <= (1 << 24), "layerNormGrad: bad size");
  size_t total = (size_t)rows * width;
  REQUIRE(ldy >= total && lx >= total && ldx >= total && lg >= (size_t)width && ldg >= (size_t)width && ldb >= (size_t)width,
          "layerNormGrad: arrays too short for the shapes");
  size_t blocks = ((size_t)rows + LN_BLOCK_ROWS - 1) / LN_BLOCK_ROWS;
  void *data;
  napi_value buffer;
  CHECK(napi_create_arraybuffer(env, sizeof(double) * 2 * (size_t)width * (blocks > 0 ? blocks : 1), &data, &buffer));
  struct layer_norm_grad_ctx ctx = {dy, x, gamma, dx, (double *)data, rows, width, eps};
  size_t block_elements = (size_t)LN_BLOCK_ROWS * (width > 0 ? (size_t)width : 1);
  parallel_for(layer_norm_grad_blocks, &ctx, blocks, (GRAIN_ELEMENTS + block_elements - 1) / block_elements);
  for (int32_t k = 0; k < width; k++) {
    double sum_gamma = 0, sum_beta = 0;
    for (size_t block = 0; block < blocks; block++) {
      sum_gamma += ctx.partials[block * 2 * (size_t)width + k];
      sum_beta += ctx.partials[block * 2 * (size_t)width + width + k];
    }
    dgamma[k] = (float)sum_gamma;
    dbeta[k] = (float)sum_beta;
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Softmax cross-entropy                                                                       */

/*
 * exp(z) for z ≤ 0 in a form the compiler vectorises (libm's expf is a scalar call): z = n ln2 + r,
 * |r| ≤ ln2 / 2, exp(r) by its degree-6 Taylor polynomial (relative error < 2e-7 on that range),
 * 2^n through the exponent bits. Below −87 the result is 0 (it would be subnormal).
 *
 * The clamp to −87 compares the bit patterns as integers (for z ≤ 0 a larger pattern is a smaller
 * number; a NaN with the sign bit clamps, one without stays NaN): a float compare lets GCC split the
 * loop into a constant path and a rounding path, and a loop with a branch is not vectorised for SSE4.1
 * and later (only SSE2 vectorised it).
 */
static inline __attribute__((always_inline)) float exp_nonpositive(float z) {
  uint32_t bits, limit = 0xc2ae0000u; /* −87.0f */
  memcpy(&bits, &z, sizeof bits);
  uint32_t below = -(uint32_t)(bits > limit);
  bits = (bits & ~below) | (limit & below);
  memcpy(&z, &bits, sizeof z);
  /* round(z · log2 e): truncation of a negative number minus ½ (cvttps2dq). */
  int32_t n = (int32_t)(z * 1.44269504088896341f - 0.5f);
  float nf = (float)n;
  float r = z - nf * 0.693145751953125f - nf * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f + r * 0.0013888889f)))));
  int32_t scale_bits = (n + 127) << 23;
  float scale;
  memcpy(&scale, &scale_bits, sizeof scale);
  return p * scale;
}


/* out[c] = exp(logits[c] − max) for one row; returns their sum. */
VECTOR_CLONES static double exp_row(const float *logits, float *out, int32_t classes, float max) {
#pragma omp simd
  for (int32_t c = 0; c < classes; c++) out[c] = exp_nonpositive(logits[c] - max);
  double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t c = 0;
  for (; c + 8 <= classes; c += 8)
    for (int32_t j = 0; j < 8; j++) partial[j] += out[c + j];
  double sum = 0;
  for (int32_t j = 0; j < 8; j++) sum += partial[j];
  for (; c < classes; c++) sum += out[c];
  return sum;
}

struct xent_ctx {
  const float *logits;
  const int32_t *labels;
  float *exps, *inverses, *loss, *hit;
  int32_t classes;
};

static void xent_rows(const void *arg, size_t begin, size_t end) {
  const struct xent_ctx *x = (const struct xent_ctx *)arg;
  int32_t classes = x->classes;
  for (size_t r = begin; r < end; r++) {
    const float *lr = x->logits + r * classes;
    float *er = x->exps + r * classes;
    int32_t argmax = 0;
    for (int32_t c = 1; c < classes; c++)
      if (lr[c] > lr[argmax]) argmax = c;
    float max = lr[argmax];
    double sum = exp_row(lr, er, classes, max);
    x->inverses[r] = (float)(1.0 / sum);
    int32_t label = x->labels[r];
    bool counted = label >= 0 && label < classes;
    x->loss[r] = counted ? (float)((double)max + log(sum) - (double)lr[label]) : 0.0f;
    x->hit[r] = counted && argmax == label ? 1.0f : 0.0f;
  }
}

static napi_value SoftmaxXent(napi_env env, napi_callback_info info) {
  napi_value args[8];
  REQUIRE(get_args(env, info, 8, args), "softmaxXent(logits, labels, rows, classes, exps, inverses, loss, hit)");
  size_t llog = 0, llab = 0, lexp = 0, linv = 0, lloss = 0, lhit = 0;
  float *logits = floats(env, args[0], &llog);
  int32_t *labels = ints(env, args[1], &llab);
  int32_t rows, classes;
  CHECK(napi_get_value_int32(env, args[2], &rows));
  CHECK(napi_get_value_int32(env, args[3], &classes));
  float *exps = floats(env, args[4], &lexp), *inverses = floats(env, args[5], &linv), *loss = floats(env, args[6], &lloss), *hit = floats(env, args[7], &lhit);
  REQUIRE(logits && labels && exps && inverses && loss && hit, "softmaxXent: labels must be an Int32Array, the rest Float32Arrays");
  REQUIRE(rows >= 0 && classes >= 1, "softmaxXent: bad size");
  size_t total = (size_t)rows * classes;
  REQUIRE(llog >= total && lexp >= total && llab >= (size_t)rows && linv >= (size_t)rows && lloss >= (size_t)rows && lhit >= (size_t)rows,
          "softmaxXent: arrays too short for the shapes");
  struct xent_ctx ctx = {logits, labels, exps, inverses, loss, hit, classes};
  parallel_for(xent_rows, &ctx, (size_t)rows, row_grain((size_t)classes));
  return NULL;
}

struct xent_grad_ctx {
  const float *exps, *inverses;
  const int32_t *labels;
  const float *row_scale;
  float *out;
  int32_t classes;
};

static void xent_grad_rows(const void *arg, size_t begin, size_t end) {
  const struct xent_grad_ctx *x = (const struct xent_grad_ctx *)arg;
  int32_t classes = x->classes;
  for (size_t r = begin; r < end; r++) {
    const float *er = x->exps + r * classes;
    float *outr = x->out + r * classes;
    int32_t label = x->labels[r];
    float scale = label >= 0 && label < classes ? x->row_scale[r] : 0.0f;
    if (scale == 0.0f) {
      memset(outr, 0, sizeof(float) * (size_t)classes);
      continue;
    }
    float factor = scale * x->inverses[r];
    for (int32_t c = 0; c < classes; c++) outr[c] = er[c] * factor;
    outr[label] -= scale;
  }
}

static napi_value SoftmaxXentGrad(napi_env env, napi_callback_info info) {
  napi_value args[7];
  REQUIRE(get_args(env, info, 7, args), "softmaxXentGrad(exps, inverses, labels, rowScale, rows, classes, out)");
  size_t lexp = 0, linv = 0, llab = 0, lscale = 0, lout = 0;
  float *exps = floats(env, args[0], &lexp), *inverses = floats(env, args[1], &linv);
  int32_t *labels = ints(env, args[2], &llab);
  float *row_scale = floats(env, args[3], &lscale);
  int32_t rows, classes;
  CHECK(napi_get_value_int32(env, args[4], &rows));
  CHECK(napi_get_value_int32(env, args[5], &classes));
  float *out = floats(env, args[6], &lout);
  REQUIRE(exps && inverses && labels && row_scale && out, "softmaxXentGrad: labels must be an Int32Array, the rest Float32Arrays");
  REQUIRE(rows >= 0 && classes >= 1, "softmaxXentGrad: bad size");
  size_t total = (size_t)rows * classes;
  REQUIRE(lexp >= total && lout >= total && linv >= (size_t)rows && llab >= (size_t)rows && lscale >= (size_t)rows,
          "softmaxXentGrad: arrays too short for the shapes");
  struct xent_grad_ctx ctx = {exps, inverses, labels, row_scale, out, classes};
  parallel_for(xent_grad_rows, &ctx, (size_t)rows, row_grain((size_t)classes));
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Sums over leading axes (bias gradients) and erf (exact GELU)                                */

VECTOR_CLONES static void add_row(double *acc, const float *row, int32_t inner) {
  for (int32_t j = 0; j < inner; j++) acc[j] += row[j];
}

struct column_sum_ctx {
  const float *x;
  double *acc;
  float *out;
  int32_t outer, inner;
};

static void column_sum_range(const void *arg, size_t begin, size_t end) {
  const struct column_sum_ctx *c = (const struct column_sum_ctx *)arg;
  for (int32_t i = 0; i < c->outer; i++) add_row(c->acc + begin, c->x + (size_t)i * c->inner + begin, (int32_t)(end - begin));
  for (size_t j = begin; j < end; j++) c->out[j] = (float)c->acc[j];
}

static napi_value ColumnSum(napi_env env, napi_callback_info info) {
  napi_value args[4];
  REQUIRE(get_args(env, info, 4, args), "columnSum(x, outer, inner, out)");
  size_t lx = 0, lout = 0;
  float *x = floats(env, args[0], &lx), *out = floats(env, args[3], &lout);
  int32_t outer, inner;
  CHECK(napi_get_value_int32(env, args[1], &outer));
  CHECK(napi_get_value_int32(env, args[2], &inner));
  REQUIRE(x && out, "columnSum: x and out must be Float32Arrays");
  REQUIRE(outer >= 0 && inner >= 0 && inner <= (1 << 26), "columnSum: bad size");
  REQUIRE(lx >= (size_t)outer * inner && lout >= (size_t)inner, "columnSum: arrays too short for the shapes");
  void *data;
  napi_value buffer;
  CHECK(napi_create_arraybuffer(env, sizeof(double) * ((size_t)inner + 1), &data, &buffer));
  double *acc = (double *)data;
  memset(acc, 0, sizeof(double) * (size_t)inner);
  struct column_sum_ctx ctx = {x, acc, out, outer, inner};
  /* Threads take ranges of columns: each column is still summed over the rows in order. */
  parallel_for(column_sum_range, &ctx, (size_t)inner, outer == 0 ? GRAIN_ELEMENTS : (GRAIN_ELEMENTS + (size_t)outer - 1) / (size_t)outer);
  return NULL;
}

/* TF.js's erf (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7), with the vectorisable exponential. */
VECTOR_CLONES static void erf_loop(const float *x, float *y, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    float a = fabsf(v);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    float r = 1.0f - poly * exp_nonpositive(-a * a);
    y[i] = copysignf(r, v);
  }
}

struct erf_ctx {
  const float *x;
  float *y;
};

static void erf_range(const void *arg, size_t begin, size_t end) {
  const struct erf_ctx *c = (const struct erf_ctx *)arg;
  erf_loop(c->x + begin, c->y + begin, end - begin);
}

static napi_value Erf(napi_env env, napi_callback_info info) {
  napi_value args[2];
  REQUIRE(get_args(env, info, 2, args), "erf(x, y)");
  size_t lx = 0, ly = 0;
  float *x = floats(env, args[0], &lx), *y = floats(env, args[1], &ly);
  REQUIRE(x && y, "erf: x and y must be Float32Arrays");
  REQUIRE(ly >= lx, "erf: y shorter than x");
  struct erf_ctx ctx = {x, y};
  parallel_for(erf_range, &ctx, lx, GRAIN_ELEMENTS);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* AdamW (torch.optim.AdamW, single-tensor path) and GELU                                       */

/*
 * One parameter's update in float32, each operation rounded as the composed TF.js ops round it
 * (@pretrain/trainer's AdamW), so the result is the same bit for bit (the build passes -ffp-contract=off):
 *   p' = p·decay − (m' / (√v' / bc2 + eps)) · stepSize,  m' = m·β1 + g·(1−β1),  v' = v·β2 + (g·g)·(1−β2)
 */
VECTOR_CLONES static void adamw_loop(const float *p, const float *g, const float *m, const float *v, float *po, float *mo, float *vo, size_t n, float decay, float b1,
                       float omb1, float b2, float omb2, float bc2, float eps, float step_size) {
#pragma omp simd
  for (size_t i = 0; i < n; i++) {
    float mi = m[i] * b1 + g[i] * omb1;
    float vi = v[i] * b2 + (g[i] * g[i]) * omb2;
    float denom = sqrtf(vi) / bc2 + eps;
    po[i] = p[i] * decay - (mi / denom) * step_size;
    mo[i] = mi;
    vo[i] = vi;
  }
}

struct adamw_ctx {
  float *arrays[7];
  float scalars[8];
};

static void adamw_range(const void *arg, size_t begin, size_t end) {
  const struct adamw_ctx *c = (const struct adamw_ctx *)arg;
  float *const *a = c->arrays;
  const float *k = c->scalars;
  adamw_loop(a[0] + begin, a[1] + begin, a[2] + begin, a[3] + begin, a[4] + begin, a[5] + begin, a[6] + begin, end - begin, k[0], k[1], k[2], k[3], k[4], k[5],
             k[6], k[7]);
}

static napi_value AdamW(napi_env env, napi_callback_info info) {
  napi_value args[15];
  REQUIRE(get_args(env, info, 15, args),
          "adamw(param, grad, expAvg, expAvgSq, paramOut, expAvgOut, expAvgSqOut, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, biasCorrection2Sqrt, eps, stepSize)");
  size_t lengths[7] = {0};
  float *arrays[7];
  for (int i = 0; i < 7; i++) {
    arrays[i] = floats(env, args[i], &lengths[i]);
    REQUIRE(arrays[i] != NULL, "adamw: the seven arrays must be Float32Arrays");
    REQUIRE(lengths[i] == lengths[0], "adamw: the arrays differ in length");
  }
  float scalars[8];
  for (int i = 0; i < 8; i++) {
    double value;
    CHECK(napi_get_value_double(env, args[7 + i], &value));
    scalars[i] = (float)value; /* as tf.scalar rounds it */
  }
  struct adamw_ctx ctx;
  memcpy(ctx.arrays, arrays, sizeof(arrays));
  memcpy(ctx.scalars, scalars, sizeof(scalars));
  parallel_for(adamw_range, &ctx, lengths[0], GRAIN_ELEMENTS);
  return NULL;
}

#define SQRT1_2F 0.70710678118654752f
#define INV_SQRT_2PIF 0.39894228040143268f
#define SQRT_2_OVER_PIF 0.79788456080286536f

static inline __attribute__((always_inline)) float erf_approx(float v) {
  float a = fabsf(v);
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  return copysignf(1.0f - poly * exp_nonpositive(-a * a), v);
}

/* sigmoid(z) from exp of a non-positive argument only (no overflow). */
static inline __attribute__((always_inline)) float sigmoid_approx(float z) {
  float e = exp_nonpositive(-fabsf(z));
  float s = 1.0f / (1.0f + e);
  return z >= 0 ? s : e * s;
}

/* approximate = 0: x Φ(x) (erf); 1: x · sigmoid(2u), u = √(2/π)(x + 0.044715 x³) (GPT-2's tanh form). dy == NULL: forward into out. */
VECTOR_CLONES static void gelu_loop(const float *x, const float *dy, float *out, size_t n, int approximate) {
  if (!approximate && !dy) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) out[i] = x[i] * ((erf_approx(x[i] * SQRT1_2F) + 1.0f) * 0.5f);
  } else if (!approximate) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
      float xi = x[i];
      float cdf = (erf_approx(xi * SQRT1_2F) + 1.0f) * 0.5f;
      float pdf = exp_nonpositive(xi * xi * -0.5f) * INV_SQRT_2PIF;
      out[i] = dy[i] * (cdf + xi * pdf);
    }
  } else if (!dy) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
      float xi = x[i];
      out[i] = xi * sigmoid_approx(xi * (xi * xi * 0.044715f + 1.0f) * (2.0f * SQRT_2_OVER_PIF));
    }
  } else {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
      float xi = x[i];
      float sq = xi * xi;
      float s = sigmoid_approx(xi * (sq * 0.044715f + 1.0f) * (2.0f * SQRT_2_OVER_PIF));
      float slope = sq * (2.0f * SQRT_2_OVER_PIF * 3.0f * 0.044715f) + 2.0f * SQRT_2_OVER_PIF;
      out[i] = dy[i] * (s + xi * (s * (1.0f - s)) * slope);
    }
  }
}

struct gelu_ctx {
  const float *x, *dy;
  float *out;
  int approximate;
};

static void gelu_range(const void *arg, size_t begin, size_t end) {
  const struct gelu_ctx *c = (const struct gelu_ctx *)arg;
  gelu_loop(c->x + begin, c->dy ? c->dy + begin : NULL, c->out + begin, end - begin, c->approximate);
}

static napi_value Gelu(napi_env env, napi_callback_info info) {
  napi_value args[4];
  REQUIRE(get_args(env, info, 4, args), "gelu(x, dy | null, out, approximate)");
  size_t lx = 0, ldy = 0, lout = 0;
  float *x = floats(env, args[0], &lx), *out = floats(env, args[2], &lout), *dy = NULL;
  napi_valuetype t;
  CHECK(napi_typeof(env, args[1], &t));
  if (t != napi_null && t != napi_undefined) {
    dy = floats(env, args[1], &ldy);
    REQUIRE(dy != NULL && ldy >= lx, "gelu: dy must be a Float32Array as long as x");
  }
  bool approximate;
  CHECK(napi_get_value_bool(env, args[3], &approximate));
  REQUIRE(x && out && lout >= lx, "gelu: x and out must be Float32Arrays, out as long as x");
  struct gelu_ctx ctx = {x, dy, out, approximate ? 1 : 0};
  parallel_for(gelu_range, &ctx, lx, GRAIN_ELEMENTS);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Output projection + softmax cross-entropy in row chunks (the [rows × classes] logits never exist) */

/*
 * Rows of one chunk's logits, in place: loss and hit per row as SoftmaxXent computes them, then (with
 * gradients) the row becomes d(scale · Σ loss)/d(logits) = (softmax − one-hot) · scale, rounded as
 * SoftmaxXentGrad rounds it (1/Σ as a float, times scale).
 */
struct linear_xent_rows_ctx {
  float *logits;
  const int32_t *labels;
  float *loss, *hit;
  int32_t classes;
  float scale;
  bool gradients;
};

static void linear_xent_rows(const void *arg, size_t begin, size_t end) {
  const struct linear_xent_rows_ctx *x = (const struct linear_xent_rows_ctx *)arg;
  int32_t classes = x->classes;
  for (size_t r = begin; r < end; r++) {
    float *lr = x->logits + r * classes;
    int32_t argmax = 0;
    for (int32_t c = 1; c < classes; c++)
      if (lr[c] > lr[argmax]) argmax = c;
    float max = lr[argmax];
    int32_t label = x->labels[r];
    bool counted = label >= 0 && label < classes;
    float label_logit = counted ? lr[label] : 0.0f;
    double sum = exp_row(lr, lr, classes, max);
    x->loss[r] = counted ? (float)((double)max + log(sum) - (double)label_logit) : 0.0f;
    x->hit[r] = counted && argmax == label ? 1.0f : 0.0f;
    if (!x->gradients) continue;
    if (!counted || x->scale == 0.0f) {
      memset(lr, 0, sizeof(float) * (size_t)classes);
      continue;
    }
    float factor = x->scale * (float)(1.0 / sum);
    for (int32_t c = 0; c < classes; c++) lr[c] *= factor;
    lr[label] -= x->scale;
  }
}

/* Chunks of about this many logits (8 MB): a chunk stays in the last-level cache between its products. */
#define LINEAR_XENT_CHUNK_ELEMENTS (2 << 20)

static napi_value LinearXent(napi_env env, napi_callback_info info) {
  napi_value args[11];
  REQUIRE(get_args(env, info, 11, args), "linearXent(hidden, weight, labels, rows, width, classes, scale, loss, hit, dHidden | null, dWeight | null)");
  size_t lh = 0, lw = 0, llab = 0, lloss = 0, lhit = 0, ldh = 0, ldw = 0;
  float *hidden = floats(env, args[0], &lh), *weight = floats(env, args[1], &lw);
  int32_t *labels = ints(env, args[2], &llab);
  int32_t rows, width, classes;
  double scale_value;
  CHECK(napi_get_value_int32(env, args[3], &rows));
  CHECK(napi_get_value_int32(env, args[4], &width));
  CHECK(napi_get_value_int32(env, args[5], &classes));
  CHECK(napi_get_value_double(env, args[6], &scale_value));
  float *loss = floats(env, args[7], &lloss), *hit = floats(env, args[8], &lhit);
  float *d_hidden = NULL, *d_weight = NULL;
  napi_valuetype t;
  CHECK(napi_typeof(env, args[9], &t));
  bool gradients = t != napi_null && t != napi_undefined;
  if (gradients) {
    d_hidden = floats(env, args[9], &ldh);
    d_weight = floats(env, args[10], &ldw);
    REQUIRE(d_hidden && d_weight, "linearXent: dHidden and dWeight must both be Float32Arrays, or both null");
  }
  REQUIRE(hidden && weight && labels && loss && hit, "linearXent: labels must be an Int32Array, the rest Float32Arrays");
  REQUIRE(rows >= 0 && width >= 1 && classes >= 1, "linearXent: bad size");
  REQUIRE(lh >= (size_t)rows * width && lw >= (size_t)classes * width && llab >= (size_t)rows && lloss >= (size_t)rows && lhit >= (size_t)rows &&
              (!gradients || (ldh >= (size_t)rows * width && ldw >= (size_t)classes * width)),
          "linearXent: arrays too short for the shapes");
  int32_t chunk = (int32_t)(LINEAR_XENT_CHUNK_ELEMENTS / (size_t)classes) / 16 * 16;
  if (chunk < 16) chunk = 16;
  if (chunk > rows) chunk = rows;
  if (gradients) memset(d_weight, 0, sizeof(float) * (size_t)classes * width);
  if (rows == 0) return NULL;
  float *logits = (float *)malloc(sizeof(float) * (size_t)chunk * classes);
  REQUIRE(logits != NULL, "linearXent: out of memory for a chunk of logits");
  for (int32_t r0 = 0; r0 < rows; r0 += chunk) {
    int32_t count = rows - r0 < chunk ? rows - r0 : chunk;
    const float *h = hidden + (size_t)r0 * width;
    struct sgemm_ctx project = {h, weight, logits, NULL, count, classes, width, 0, 0, false, true, 1, 1, count, classes, false};
    sgemm_run(&project, 1);
    struct linear_xent_rows_ctx rows_ctx = {logits, labels + r0, loss + r0, hit + r0, classes, (float)scale_value, gradients};
    parallel_for(linear_xent_rows, &rows_ctx, (size_t)count, row_grain((size_t)classes));
    if (!gradients) continue;
    /* dHidden rows = dLogits · W; dW += dLogitsᵀ · hidden rows (chunks in order: the same sums for any thread count). */
    struct sgemm_ctx back_hidden = {logits, weight, d_hidden + (size_t)r0 * width, NULL, count, width, classes, 0, 0, false, false, 1, 1, count, width, false};
    sgemm_run(&back_hidden, 1);
    struct sgemm_ctx back_weight = {logits, h, d_weight, NULL, classes, width, count, 0, 0, true, false, 1, 1, classes, width, true};
    sgemm_run(&back_weight, 1);
  }
  free(logits);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Element-wise Add, Sub, Mul, Div (one float operation each: the same bits as the wasm kernels)  */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_RSUB, OP_RDIV };

/* out[i] = full[i] op small[i mod period] (repeat) or small[i / period] (block); period n: same shapes. */
struct binary_ctx {
  const float *full, *small;
  float *out;
  size_t period;
  int op, block;
};

#define BINARY_LOOP(EXPR)                                     \
  _Pragma("omp simd") for (size_t k = 0; k < count; k++) { \
    float a = x[k], b = y[k];                                 \
    o[k] = (EXPR);                                            \
  }
#define BINARY_SCALAR_LOOP(EXPR)                              \
  _Pragma("omp simd") for (size_t k = 0; k < count; k++) { \
    float a = x[k];                                           \
    o[k] = (EXPR);                                            \
  }

VECTOR_CLONES static void binary_arrays(const float *x, const float *y, float *o, size_t count, int op) {
  switch (op) {
    case OP_ADD: BINARY_LOOP(a + b) break;
    case OP_SUB: BINARY_LOOP(a - b) break;
    case OP_MUL: BINARY_LOOP(a * b) break;
    case OP_DIV: BINARY_LOOP(a / b) break;
    case OP_RSUB: BINARY_LOOP(b - a) break;
    default: BINARY_LOOP(b / a) break;
  }
}

VECTOR_CLONES static void binary_scalar(const float *x, float b, float *o, size_t count, int op) {
  switch (op) {
    case OP_ADD: BINARY_SCALAR_LOOP(a + b) break;
    case OP_SUB: BINARY_SCALAR_LOOP(a - b) break;
    case OP_MUL: BINARY_SCALAR_LOOP(a * b) break;
    case OP_DIV: BINARY_SCALAR_LOOP(a / b) break;
    case OP_RSUB: BINARY_SCALAR_LOOP(b - a) break;
    default: BINARY_SCALAR_LOOP(b / a) break;
  }
}

/* Rows [begin, end) of `period` elements each. */
static void binary_rows(const void *arg, size_t begin, size_t end) {
  const struct binary_ctx *c = (const struct binary_ctx *)arg;
  size_t p = c->period;
  for (size_t r = begin; r < end; r++) {
    if (c->block) binary_scalar(c->full + r * p, c->small[r], c->out + r * p, p, c->op);
    else binary_arrays(c->full + r * p, c->small, c->out + r * p, p, c->op);
  }
}

/* Same-shape operands: [begin, end) of the elements. */
static void binary_elements(const void *arg, size_t begin, size_t end) {
  const struct binary_ctx *c = (const struct binary_ctx *)arg;
  binary_arrays(c->full + begin, c->small + begin, c->out + begin, end - begin, c->op);
}

static napi_value Binary(napi_env env, napi_callback_info info) {
  napi_value args[6];
  REQUIRE(get_args(env, info, 6, args), "binary(op, full, small, out, period, block)");
  int32_t op, period;
  bool block;
  CHECK(napi_get_value_int32(env, args[0], &op));
  CHECK(napi_get_value_int32(env, args[4], &period));
  CHECK(napi_get_value_bool(env, args[5], &block));
  size_t lf = 0, ls = 0, lo = 0;
  float *full = floats(env, args[1], &lf), *small = floats(env, args[2], &ls), *out = floats(env, args[3], &lo);
  REQUIRE(full && small && out, "binary: full, small and out must be Float32Arrays");
  REQUIRE(op >= OP_ADD && op <= OP_RDIV, "binary: unknown op");
  REQUIRE(period >= 1 && lo >= lf && lf % (size_t)period == 0, "binary: the output length must be a multiple of period");
  size_t rows = lf / (size_t)period;
  /* repeat: small holds one row of `period`; block: one value per row; same shapes: period == length. */
  REQUIRE(block ? ls >= rows : ls >= (size_t)period, "binary: small too short for the shapes");
  struct binary_ctx ctx = {full, small, out, (size_t)period, op, block ? 1 : 0};
  if (!block && rows == 1) parallel_for(binary_elements, &ctx, lf, GRAIN_ELEMENTS);
  else if (!block && period == 1) binary_scalar(full, small[0], out, lf, op); /* a scalar */
  else parallel_for(binary_rows, &ctx, rows, row_grain((size_t)period));
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Dropout masks                                                                               */

/*
 * @pretrain/core's Rng.fillDropoutMask in C: xoshiro128** from state s (4 × uint32, updated in place),
 * two keep/drop decisions per draw (low 16 bits, then high: kept when below threshold), `scale` where
 * kept, 0 where dropped. The same draws, masks and final state as the JS loop (tested).
 */
static inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static napi_value DropoutMask(napi_env env, napi_callback_info info) {
  napi_value args[4];
  REQUIRE(get_args(env, info, 4, args), "dropoutMask(state, mask, threshold, scale)");
  size_t ls = 0, lm = 0;
  int32_t *state = ints(env, args[0], &ls);
  float *mask = floats(env, args[1], &lm);
  int32_t threshold;
  double scale_value;
  CHECK(napi_get_value_int32(env, args[2], &threshold));
  CHECK(napi_get_value_double(env, args[3], &scale_value));
  REQUIRE(state && ls == 4, "dropoutMask: state must be an Int32Array of 4");
  REQUIRE(mask, "dropoutMask: mask must be a Float32Array");
  REQUIRE(threshold >= 0 && threshold <= 65536, "dropoutMask: threshold must be in [0, 65536]");
  uint32_t s0 = (uint32_t)state[0], s1 = (uint32_t)state[1], s2 = (uint32_t)state[2], s3 = (uint32_t)state[3];
  uint32_t limit = (uint32_t)threshold;
  float scale = (float)scale_value;
  for (size_t i = 0; i < lm; i += 2) {
    uint32_t bits = rotl32(s1 * 5u, 7) * 9u;
    uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl32(s3, 11);
    mask[i] = (bits & 0xffffu) < limit ? scale : 0.0f;
    if (i + 1 < lm) mask[i + 1] = (bits >> 16) < limit ? scale : 0.0f;
  }
  state[0] = (int32_t)s0;
  state[1] = (int32_t)s1;
  state[2] = (int32_t)s2;
  state[3] = (int32_t)s3;
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value arg;
  int32_t n;
  REQUIRE(get_args(env, info, 1, &arg), "setThreads(n)");
  CHECK(napi_get_value_int32(env, arg, &n));
  REQUIRE(n >= 1 && n <= 256, "setThreads: n must be between 1 and 256");
  openblas_set_num_threads(1); /* products are split by the pool (sgemm_run) */
  pool_threads = n < MAX_THREADS ? n : MAX_THREADS;
  return NULL;
}

/* setPrecision("float32" | "bfloat16"): the products' precision (bfloat16 needs a build with oneDNN). */
static napi_value SetPrecision(napi_env env, napi_callback_info info) {
  napi_value arg;
  char name[16] = {0};
  size_t length = 0;
  REQUIRE(get_args(env, info, 1, &arg), "setPrecision(\"float32\" | \"bfloat16\")");
  CHECK(napi_get_value_string_utf8(env, arg, name, sizeof name, &length));
  if (strcmp(name, "float32") == 0) {
    use_bf16 = 0;
    return NULL;
  }
  REQUIRE(strcmp(name, "bfloat16") == 0, "setPrecision: precision must be \"float32\" or \"bfloat16\"");
#ifdef PRETRAIN_ONEDNN
  use_bf16 = 1;
#else
  REQUIRE(0, "setPrecision: bfloat16 products need the addon built with oneDNN (Debian: apt-get install libdnnl-dev, then rebuild)");
#endif
  return NULL;
}

static napi_value Precision(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_create_string_utf8(env, use_bf16 ? "bfloat16" : "float32", NAPI_AUTO_LENGTH, &out));
  return out;
}

/* The precisions this build can run. */
static napi_value Precisions(napi_env env, napi_callback_info info) {
  napi_value out, item;
  CHECK(napi_create_array(env, &out));
  CHECK(napi_create_string_utf8(env, "float32", NAPI_AUTO_LENGTH, &item));
  CHECK(napi_set_element(env, out, 0, item));
#ifdef PRETRAIN_ONEDNN
  CHECK(napi_create_string_utf8(env, "bfloat16", NAPI_AUTO_LENGTH, &item));
  CHECK(napi_set_element(env, out, 1, item));
#endif
  return out;
}

static napi_value Threads(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_create_int32(env, pool_threads, &out));
  return out;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNorm", NULL, LayerNorm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNormGrad", NULL, LayerNormGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmaxXent", NULL, SoftmaxXent, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmaxXentGrad", NULL, SoftmaxXentGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"columnSum", NULL, ColumnSum, NULL, NULL, NULL, napi_enumerable, NULL},
      {"erf", NULL, Erf, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamw", NULL, AdamW, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gelu", NULL, Gelu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"linearXent", NULL, LinearXent, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, Binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dropoutMask", NULL, DropoutMask, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, Threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setPrecision", NULL, SetPrecision, NULL, NULL, NULL, napi_enumerable, NULL},
      {"precision", NULL, Precision, NULL, NULL, NULL, napi_enumerable, NULL},
      {"precisions", NULL, Precisions, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, Config, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
