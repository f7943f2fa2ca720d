#!/usr/bin/env node
// Runs a script of this folder from its TypeScript source: esbuild bundles it (with @pretrain/*
// resolved to packages/*/src) into dist/scripts/, then node runs it. Usage: node scripts/run.js bench-head [args]
const path = require('path');
const { spawnSync } = require('child_process');

const name = process.argv[2] ?? 'bench-head';
const packagesDir = path.join(__dirname, '../..');
const outfile = path.join(__dirname, '../dist/scripts', `${name}.js`);
require('esbuild').buildSync({
  entryPoints: [path.join(__dirname, `${name}.ts`)],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile,
  logLevel: 'warning',
  external: ['@tensorflow/*'],
  alias: { '@pretrain/core': path.join(packagesDir, 'core/src/index.ts'), '@pretrain/objective-mlm': path.join(packagesDir, 'objective-mlm/src/index.ts') },
});
const result = spawnSync(process.execPath, [outfile, ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
