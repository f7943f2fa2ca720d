/**
 * Runs a TypeScript script straight from the sources: esbuild bundles <scriptsDir>/<name>.ts (with
 * @pretrain/* resolved to packages/<pkg>/src) into <outDir>/<name>.js, then node runs it with the
 * remaining arguments and exits with its status. The packages' `scripts/run.js` and the tools'
 * `run.js` are thin callers, e.g.
 *   require('../../../tools/scripts/run-ts').runTsScript({ scriptsDir: __dirname, outDir: path.join(__dirname, 'dist'), usage: 'node scripts/run.js' });
 */
const path = require('path');
const fs = require('fs');
const { spawnSync } = require('child_process');

const packagesDir = path.join(__dirname, '../../packages');

/**
 * `@pretrain/<pkg>` and its sub-path exports (`@pretrain/core/lite`, `/testing`, ...) resolved to the
 * TypeScript sources: the export's `./dist/<file>.js` becomes `src/<file>.ts`. (An esbuild alias to
 * src/index.ts would turn `@pretrain/core/lite` into `src/index.ts/lite`.)
 */
function workspaceSources() {
  return {
    name: 'pretrain-workspace-sources',
    setup(build) {
      build.onResolve({ filter: /^@pretrain\/[^/]+(\/.+)?$/ }, (args) => {
        const [, pkg, sub] = args.path.match(/^@pretrain\/([^/]+)(\/.+)?$/);
        const file = sourceOfExport(path.join(packagesDir, pkg), sub ? `.${sub}` : '.');
        return file ? { path: file } : undefined;
      });
    },
  };
}

function sourceOfExport(dir, subpath) {
  const manifest = path.join(dir, 'package.json');
  if (!fs.existsSync(manifest) || !fs.existsSync(path.join(dir, 'src'))) return undefined;
  const entry = JSON.parse(fs.readFileSync(manifest, 'utf8')).exports?.[subpath];
  const target = typeof entry === 'string' ? entry : entry?.default ?? entry?.require;
  if (typeof target !== 'string') return undefined;
  const source = path.join(dir, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
  return fs.existsSync(source) ? source : undefined;
}

/**
 * @param {{ scriptsDir: string; outDir: string; usage: string; defaultName?: string; argv?: string[] }} options
 *   usage: how the caller is invoked, for the usage line (e.g. `node tools/bench/run.js`);
 *   defaultName: the script to run when none is named; argv: the arguments (default: the process's).
 */
function runTsScript(options) {
  bundleAndRun(options).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}

async function bundleAndRun({ scriptsDir, outDir, usage, defaultName, argv = process.argv.slice(2) }) {
  const [name = defaultName, ...args] = argv;
  const entry = name ? path.join(scriptsDir, `${name}.ts`) : '';
  if (!name || !fs.existsSync(entry)) {
    const available = fs.readdirSync(scriptsDir).filter((f) => f.endsWith('.ts') && !f.includes('.test.')).map((f) => f.slice(0, -3));
    console.error(`usage: ${usage} <${available.join('|')}> [args...]`);
    process.exit(2);
  }
  const outfile = path.join(outDir, `${name}.js`);
  await require('esbuild').build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    sourcemap: 'inline',
    logLevel: 'warning',
    // TF.js stays external: the wasm backend finds its .wasm files next to its own package. The HF
    // tokenizers (benchmark peers) load native or wasm code of their own; esbuild (the tokenizer's
    // TypeScript training-input loader) finds its own binary.
    external: ['@tensorflow/*', '@huggingface/*', 'tokenizers', 'esbuild'],
    plugins: [workspaceSources()],
  });
  // core starts the threaded wasm build with its worker file, looked up next to the running code.
  const worker = path.join(packagesDir, 'core/src/kernels/wasm-worker.js');
  if (fs.existsSync(worker)) fs.copyFileSync(worker, path.join(path.dirname(outfile), 'wasm-worker.js'));
  const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

module.exports = { runTsScript };
