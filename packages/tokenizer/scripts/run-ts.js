#!/usr/bin/env node
// Runs a TypeScript script of this package: esbuild bundles it (workspace sources through the
// root tsconfig paths) into a temporary file, which is then executed with the remaining arguments.
const path = require('path');
const os = require('os');
const fs = require('fs');
const esbuild = require('esbuild');

const [, , script, ...args] = process.argv;
if (!script) {
  console.error('usage: node scripts/run-ts.js <script.ts> [args...]');
  process.exit(2);
}
const root = path.resolve(__dirname, '../../..');
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-tokenizer-'));
const outfile = path.join(outDir, path.basename(script).replace(/\.ts$/, '.js'));
// The tokenizer's counting worker is bundled next to the script, where training looks for it.
esbuild.buildSync({
  entryPoints: { [path.basename(outfile, '.js')]: path.resolve(script), 'count-worker': path.join(__dirname, '../src/count-worker.ts') },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: outDir,
  sourcemap: 'inline',
  tsconfig: path.join(root, 'tsconfig.base.json'),
  external: ['tokenizers', '@huggingface/tokenizers', '@tensorflow/*', 'esbuild', '@swc/*'],
  logLevel: 'warning',
});
process.argv = [process.argv[0], outfile, ...args];
module.paths.unshift(path.join(root, 'node_modules'));
process.env.NODE_PATH = [path.join(root, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
require('module').Module._initPaths();
require(outfile);
