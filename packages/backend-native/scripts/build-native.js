#!/usr/bin/env node
/**
 * Compiles native/pretrain_native.c into build/pretrain_native.node with the system C compiler when
 * Node-API headers, cblas.h and OpenBLAS are present (Debian: apt-get install gcc libopenblas-dev).
 * OpenBLAS is linked statically when its .a is there (the binary then needs only libc and libm, so
 * it can be copied into a prebuilt platform package), else dynamically.
 *
 * PRETRAIN_NATIVE_ONEDNN=1 also links oneDNN (Debian: libdnnl-dev, dynamically) for the bfloat16 products of
 * setPrecision; such a binary needs libdnnl at run time, so pack-prebuilt.js does not ship it.
 *
 * Without a compiler or the library it prints one line and exits 0: the wasm backend is used.
 * PRETRAIN_NATIVE_REQUIRED=1 (CI) makes that an error. Up to date binaries are not rebuilt.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const source = path.join(root, 'native', 'pretrain_native.c');
const out = path.join(root, 'build', 'pretrain_native.node');
const multiarch = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
const CBLAS_DIRS = [`/usr/include/${multiarch}/openblas-pthread`, `/usr/include/${multiarch}/openblas-openmp`, '/usr/include/openblas', '/usr/include', '/usr/local/include', '/opt/homebrew/opt/openblas/include', '/usr/local/opt/openblas/include'];
const ONEDNN_HEADERS = ['/usr/include/oneapi/dnnl/dnnl.h', '/usr/local/include/oneapi/dnnl/dnnl.h'];
const LIB_DIRS = [`/usr/lib/${multiarch}/openblas-pthread`, `/usr/lib/${multiarch}`, '/usr/lib', '/usr/local/lib', '/opt/homebrew/opt/openblas/lib', '/usr/local/opt/openblas/lib'];

function wantsOneDnn() {
  return process.env.PRETRAIN_NATIVE_ONEDNN === '1';
}

function why() {
  const cc = process.env.CC || 'cc';
  if (spawnSync(cc, ['--version']).status !== 0) return { skip: `no C compiler (${cc})` };
  const nodeInclude = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!nodeInclude) return { skip: 'Node-API headers (node_api.h) not found next to node' };
  const cblas = CBLAS_DIRS.find((d) => fs.existsSync(path.join(d, 'cblas.h')));
  if (!cblas) return { skip: 'cblas.h not found (Debian: apt-get install libopenblas-dev)' };
  const staticLib = LIB_DIRS.map((d) => path.join(d, 'libopenblas.a')).find((f) => fs.existsSync(f));
  const dynamicDir = LIB_DIRS.find((d) => fs.existsSync(path.join(d, 'libopenblas.so')) || fs.existsSync(path.join(d, 'libopenblas.dylib')));
  if (!staticLib && !dynamicDir) return { skip: 'libopenblas not found (Debian: apt-get install libopenblas-dev)' };
  const link = staticLib ? [staticLib, '-lpthread', '-lm'] : [`-L${dynamicDir}`, '-lopenblas', '-lpthread', '-lm'];
  const shared = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared'];
  // oneDNN, on request (PRETRAIN_NATIVE_ONEDNN=1): the bfloat16 products of setPrecision. Debian's libdnnl-dev
  // is linked dynamically, so such a binary is not self-contained (pack-prebuilt.js refuses it).
  const onednn = wantsOneDnn();
  if (onednn && !(ONEDNN_HEADERS.some((f) => fs.existsSync(f)) && LIB_DIRS.some((d) => fs.existsSync(path.join(d, 'libdnnl.so'))))) return { skip: 'PRETRAIN_NATIVE_ONEDNN=1 but oneDNN was not found (Debian: apt-get install libdnnl-dev)' };
  const dnnl = onednn ? ['-DPRETRAIN_ONEDNN', '-ldnnl'] : [];
  const linked = `${staticLib ? 'OpenBLAS linked statically' : 'OpenBLAS linked dynamically'}${onednn ? '; oneDNN (bfloat16 products)' : ''}`;
  return { cc, args: ['-O3', '-fno-trapping-math', '-fno-math-errno', '-ffp-contract=off', '-fopenmp-simd', '-fPIC', ...shared, '-o', out, source, `-I${nodeInclude}`, `-I${cblas}`, ...link, ...dnnl], linked, onednn };
}

function main() {
  const info = path.join(path.dirname(out), 'build-info.json');
  const upToDate = fs.existsSync(out) && fs.existsSync(info) && fs.statSync(out).mtimeMs >= fs.statSync(source).mtimeMs;
  if (upToDate && Boolean(JSON.parse(fs.readFileSync(info, 'utf8')).onednn) === wantsOneDnn()) return 0;
  const plan = why();
  if (plan.skip) {
    console.log(`@pretrain/backend-native: not built (${plan.skip}); the wasm backend will be used`);
    return process.env.PRETRAIN_NATIVE_REQUIRED === '1' ? 1 : 0;
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const partial = `${out}.tmp-${process.pid}`;
  const args = plan.args.map((a) => (a === out ? partial : a));
  const result = spawnSync(plan.cc, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    fs.rmSync(partial, { force: true });
    const message = (result.stderr || result.stdout || '').trim().split('\n').slice(-3).join(' | ');
    console.log(`@pretrain/backend-native: compiling native/pretrain_native.c failed (${message}); the wasm backend will be used`);
    return process.env.PRETRAIN_NATIVE_REQUIRED === '1' ? 1 : 0;
  }
  fs.renameSync(partial, out);
  // What pack-prebuilt.js checks: only a statically linked binary is self-contained enough to ship.
  fs.writeFileSync(path.join(path.dirname(out), 'build-info.json'), `${JSON.stringify({ platform: process.platform, arch: process.arch, openblas: plan.linked.includes('statically') ? 'static' : 'dynamic', onednn: plan.onednn }, null, 2)}\n`);
  console.log(`@pretrain/backend-native: built build/pretrain_native.node (${plan.linked})`);
  return 0;
}

process.exitCode = main();
