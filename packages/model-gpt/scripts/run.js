#!/usr/bin/env node
/**
 * Runs a script from this folder straight from the TypeScript sources: esbuild bundles
 * scripts/<name>.ts (with @pretrain/* resolved to packages/<pkg>/src) into scripts/dist/, then
 * node runs it. Usage: node scripts/run.js <name> [args...]
 */
const path = require('path');
const fs = require('fs');
const { spawnSync } = require('child_process');

const name = process.argv[2];
const entry = path.join(__dirname, `${name}.ts`);
if (!name || !fs.existsSync(entry)) {
  const available = fs.readdirSync(__dirname).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  console.error(`usage: node ${path.relative(process.cwd(), __filename)} <${available.join('|')}> [args...]`);
  process.exit(2);
}
const packagesDir = path.join(__dirname, '../..');
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
  external: ['@tensorflow/*'],
  alias: Object.fromEntries(
    fs.readdirSync(packagesDir)
      .filter((pkg) => fs.existsSync(path.join(packagesDir, pkg, 'src/index.ts')))
      .map((pkg) => [`@pretrain/${pkg}`, path.join(packagesDir, pkg, 'src/index.ts')]),
  ),
});
// core starts the threaded wasm build with its worker file, looked up next to the running code.
const worker = path.join(packagesDir, 'core/src/kernels/wasm-worker.js');
if (fs.existsSync(worker)) fs.copyFileSync(worker, path.join(path.dirname(outfile), 'wasm-worker.js'));
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
