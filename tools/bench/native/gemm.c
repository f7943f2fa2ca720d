/*
 * Spike of a native matmul for the bench (issue 16: "a native backend past the WebAssembly ceiling"):
 * one Node-API function over OpenBLAS's cblas_sgemm, working in place on Float32Arrays — including
 * views of the TF.js wasm backend's heap, so it can stand in for XNNPACK under the wasm kernels.
 *
 *   sgemm(a, b, c, m, n, k, transA, transB, batch, aBatchStride, bBatchStride, bias | null)
 *     c[i] = op(a[i]) · op(b[i]) (+ bias per row) for i < batch, row-major, strides in elements
 *     (0 = the operand is shared by every batch).
 *   setThreads(n), threads()
 *
 * Built by tools/bench/src/native/addon.ts with the system compiler when cblas.h and libopenblas are
 * present (Debian: libopenblas-dev); never required by the tests.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdbool.h>
#include <stddef.h>

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

#define CHECK(call)                                                    \
  if ((call) != napi_ok) {                                             \
    napi_throw_error(env, NULL, "gemm.node: bad arguments to " #call); \
    return NULL;                                                       \
  }

static float *floats(napi_env env, napi_value value, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset) != napi_ok || type != napi_float32_array) return NULL;
  return (float *)data;
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value args[12];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 11) {
    napi_throw_error(env, NULL, "sgemm(a, b, c, m, n, k, transA, transB, batch, aStride, bStride, bias?)");
    return NULL;
  }
  size_t la, lb, lc, lbias = 0;
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
    if (t != napi_null && t != napi_undefined) bias = floats(env, args[11], &lbias);
  }
  if (!a || !b || !c || m < 0 || n < 0 || k < 0 || batch < 1 || (size_t)m * n * batch > lc || (bias && lbias < (size_t)n) ||
      (size_t)aStride * (batch - 1) + (size_t)m * k > la || (size_t)bStride * (batch - 1) + (size_t)k * n > lb) {
    napi_throw_range_error(env, NULL, "sgemm: Float32Array operands too short for the shapes");
    return NULL;
  }
  for (int32_t i = 0; i < batch; i++) {
    float *out = c + (size_t)i * m * n;
    float beta = 0.0f;
    if (bias) {
      for (int32_t r = 0; r < m; r++)
        for (int32_t j = 0; j < n; j++) out[(size_t)r * n + j] = bias[j];
      beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a + (size_t)i * aStride, ta ? m : k,
                b + (size_t)i * bStride, tb ? k : n, beta, out, n);
  }
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  int32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  CHECK(napi_get_value_int32(env, arg, &n));
  openblas_set_num_threads(n);
  return NULL;
}

static napi_value Threads(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, Threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}
