#!/usr/bin/env node
/**
 * Builds packages/core/wasm/*.c into one WebAssembly module (clang --target=wasm32, SIMD128) and writes
 * it, base64, in four variants, into packages/core/src/kernels/wasm/simd-modules.generated.ts. The generated file is
 * committed: users need no compiler. Run after editing the C: `npm run build:wasm-kernels` (needs
 * Debian's clang and lld; wabt's wasm2wat, when present, is used to check the output).
 *
 * The variants: memory unshared (tfjs-backend-wasm's single-threaded build) or
 * shared (its threaded build, whose memory is a SharedArrayBuffer of up to 4 GiB), each with plain
 * SIMD128 or with relaxed-SIMD fused multiply-add. clang 14 emits relaxed madd under a pre-standard
 * opcode (0xfd 0xaf 0x01); it is rewritten to the standard f32x4.relaxed_madd (0xfd 0x85 0x02, the
 * same length), and the count of rewrites must equal the count of `f32x4.fma` in clang's assembly.
 *
 * The modules must not touch memory they are not given: the build fails if one has a data segment,
 * and the stack is placed first with size 0 (any stack use would fault at address < 0, not corrupt
 * TF.js's heap); with wasm2wat present, it also fails if code reads the stack pointer.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '../..');
const sourceDir = path.join(root, 'packages/core/wasm');
const defaultOut = path.join(root, 'packages/core/src/kernels/wasm/simd-modules.generated.ts');
// --out FILE writes elsewhere (core's test rebuilds into a temporary file and compares).
const outFile = process.argv.includes('--out') ? path.resolve(process.argv[process.argv.indexOf('--out') + 1]) : defaultOut;
const SOURCES = ['gemm', 'kernels'];
/** Every file the build reads, hashed in this order (the test recomputes it). */
const HASHED = ['gemm.c', 'kernels.c', 'work.h'];
const VARIANTS = [
  { key: 'plain', shared: false, relaxed: false },
  { key: 'relaxed', shared: false, relaxed: true },
  { key: 'sharedPlain', shared: true, relaxed: false },
  { key: 'sharedRelaxed', shared: true, relaxed: true },
];
const OLD_MADD = Buffer.from([0xfd, 0xaf, 0x01]);
const NEW_MADD = Buffer.from([0xfd, 0x85, 0x02]);

function has(tool) {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function flags(variant) {
  const common = ['--target=wasm32', '-O3', '-msimd128', '-mbulk-memory', '-nostdlib', '-ffreestanding', '-Wall', '-Werror'];
  return [...common, ...(variant.relaxed ? ['-mrelaxed-simd', '-DPRETRAIN_RELAXED'] : []), ...(variant.shared ? ['-matomics'] : [])];
}

function linkFlags(variant) {
  const shared = variant.shared ? ['-Wl,--shared-memory', '-Wl,--max-memory=4294967296'] : [];
  return ['-Wl,--no-entry', '-Wl,--import-memory', '-Wl,--stack-first', '-Wl,-z,stack-size=0', ...shared];
}

function countOf(haystack, needle) {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

/** Section ids present in a module (11 = data). */
function sectionIds(bytes) {
  const ids = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      size |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

function build(variant, work) {
  const inputs = SOURCES.map((source) => path.join(sourceDir, `${source}.c`));
  const output = path.join(work, `kernels-${variant.key}.wasm`);
  execFileSync('clang', [...flags(variant), ...linkFlags(variant), '-o', output, ...inputs], { stdio: 'inherit' });
  let bytes = fs.readFileSync(output);
  const source = 'kernels';
  if (variant.relaxed) {
    const expected = inputs.reduce((sum, input) => sum + countOf(execFileSync('clang', [...flags(variant), '-S', '-o', '-', input], { encoding: 'utf8' }), 'f32x4.fma'), 0);
    const found = countOf(bytes, OLD_MADD);
    if (expected === 0 || found !== expected) throw new Error(`${source} (${variant.key}): ${expected} f32x4.fma in the assembly but ${found} opcodes to rewrite`);
    let at;
    while ((at = bytes.indexOf(OLD_MADD)) >= 0) NEW_MADD.copy(bytes, at);
  }
  if (sectionIds(bytes).includes(11)) throw new Error(`${source} (${variant.key}) has a data segment: it would overwrite TF.js's heap`);
  if (has('wasm2wat')) {
    // wabt is optional; the data-segment check above always runs.
    fs.writeFileSync(output, bytes);
    const text = execFileSync('wasm2wat', ['--enable-all', output], { encoding: 'utf8' });
    if (/global\.(get|set) \$__stack_pointer/.test(text)) throw new Error(`${source} (${variant.key}) uses the shadow stack`);
  }
  return bytes;
}

/** sha256 over the sources, in order (the test compares it with the generated file's). */
function sourcesHash() {
  const hash = require('crypto').createHash('sha256');
  for (const file of HASHED) hash.update(fs.readFileSync(path.join(sourceDir, file)));
  return hash.digest('hex');
}

function main() {
  for (const tool of ['clang', 'wasm-ld']) if (!has(tool)) throw new Error(`${tool} not found: apt-get install clang lld`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-wasm-'));
  const lines = [
    '// Generated by tools/scripts/build-wasm-kernels.js from packages/core/wasm/*.c (npm run build:wasm-kernels). Do not edit.',
    `// clang: ${execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`,
    '',
  ];
  const hash = sourcesHash();
  lines.push(`/** ${SOURCES.map((s) => `${s}.c`).join(' + ')} as one WebAssembly module per variant, base64; the hash covers ${HASHED.join(', ')}. */`);
  lines.push(`export const KERNELS_SOURCE_SHA256 = '${hash}';`);
  lines.push('export const KERNEL_MODULES = {');
  for (const variant of VARIANTS) lines.push(`  ${variant.key}: '${build(variant, work).toString('base64')}',`);
  lines.push('};', '');
  fs.rmSync(work, { recursive: true, force: true });
  fs.writeFileSync(outFile, lines.join('\n'));
  console.log(`wrote ${outFile}`);
}

main();
