#!/usr/bin/env node
/**
 * Runs a benchmark from src/ straight from the TypeScript sources: esbuild bundles
 * src/<name>.ts (with @pretrain/* resolved to packages/<pkg>/src) into dist/, then node runs it.
 * Usage: node tools/finetune-bench/run.js finetune [args...]
 */
const path = require('path');
const fs = require('fs');
const { spawnSync } = require('child_process');

const name = process.argv[2];
const entry = path.join(__dirname, 'src', `${name}.ts`);
if (!name || !fs.existsSync(entry)) {
  const available = fs.readdirSync(path.join(__dirname, 'src')).filter((f) => f.endsWith('.ts') && !f.includes('.test.')).map((f) => f.slice(0, -3));
  console.error(`usage: node tools/finetune-bench/run.js <${available.join('|')}> [args...]`);
  process.exit(2);
}
const packagesDir = path.join(__dirname, '../../packages');
const outfile = path.join(__dirname, 'dist', `${name}.js`);
require('esbuild').buildSync({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile,
  sourcemap: 'inline',
  logLevel: 'warning',
  // TF.js stays external: the wasm backend finds its .wasm files next to its own package.
  external: ['@tensorflow/*', '@huggingface/*', 'tokenizers'],
  alias: Object.fromEntries(
    fs.readdirSync(packagesDir)
      .filter((pkg) => fs.existsSync(path.join(packagesDir, pkg, 'src/index.ts')))
      .map((pkg) => [`@pretrain/${pkg}`, path.join(packagesDir, pkg, 'src/index.ts')]),
  ),
});
// core starts the threaded wasm build with its worker file, looked up next to the code (here: the bundle).
fs.copyFileSync(path.join(packagesDir, 'core/src/kernels/wasm-worker.js'), path.join(path.dirname(outfile), 'wasm-worker.js'));
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
