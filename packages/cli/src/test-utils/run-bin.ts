import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const BIN = path.resolve(__dirname, '../../dist/bin.js');
export const DATA_DIR = path.join(REPO_ROOT, 'data');

export interface BinResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `pretrain` binary (packages/cli/dist/bin.js) the way a user does. */
export function runBin(args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): BinResult {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (npx nx run @pretrain/cli:build)`);
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 240_000,
    // One wasm thread unless a test asks otherwise: jest and nx run these processes side by side, and on a busy
    // machine a second XNNPACK thread slows a step down (docs/benchmarks.md, "Both cores?").
    env: { ...process.env, PRETRAIN_BACKEND: process.env.PRETRAIN_BACKEND ?? 'wasm', PRETRAIN_THREADS: process.env.PRETRAIN_THREADS ?? '1', FORCE_COLOR: '0', ...options.env },
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** `pretrain tokenizer train` on one file into `<dir>/tok`; the path of the tokenizer.json it wrote. */
export function trainTokenizerWithBin(dir: string, input: string, vocabSize: number): string {
  const result = runBin(['tokenizer', 'train', '--input', input, '--vocab-size', String(vocabSize), '-o', path.join(dir, 'tok')]);
  if (result.status !== 0) throw new Error(`tokenizer train failed: ${result.stderr}`);
  return path.join(dir, 'tok', 'tokenizer.json');
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pretrain-cli-${prefix}-`));
}

/** A temporary folder for the tests of one file, removed after them. */
export function suiteTempDir(prefix: string): string {
  const dir = tempDir(prefix);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Shell words, honouring double quotes (the docs' commands use nothing else). */
export function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

export function writeJson(file: string, value: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

/**
 * A third-party objective package in `<dir>/node_modules/<name>`, found by npm name the way an installed
 * package is. Its loss pulls the hidden states toward zero: trivial, but it trains through the real loop.
 */
export function installToyObjectivePackage(dir: string, name: string): void {
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, '@pretrain'), { recursive: true });
  for (const linked of ['@pretrain/core', '@tensorflow']) {
    const target = linked === '@tensorflow' ? path.join(REPO_ROOT, 'node_modules', '@tensorflow') : path.join(REPO_ROOT, 'packages', 'core');
    fs.symlinkSync(target, path.join(modules, linked), 'dir');
  }
  const pkgDir = path.join(modules, name);
  fs.mkdirSync(pkgDir, { recursive: true });
  fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  fs.writeFileSync(
    path.join(pkgDir, 'index.js'),
    `const tf = require('@tensorflow/tfjs-core');
const { definePlugin, z } = require('@pretrain/core');
class ShrinkHidden {
  constructor(options) { this.name = 'shrink'; this.options = options; }
  init() {}
  variables() { return new Map(); }
  stateDict() { return new Map(); }
  loadStateDict() { return { missing: [], unexpected: [] }; }
  dispose() {}
  loss(output) {
    const loss = tf.mul(tf.mean(tf.square(output.sequenceOutput)), tf.scalar(this.options.scale));
    return { loss, metrics: {} };
  }
}
exports.pretrainPlugins = [definePlugin({
  kind: 'objective', name: 'shrink-hidden', options: z.object({ scale: z.number().default(1) }).strict(),
  create: (options) => new ShrinkHidden(options),
})];
`,
  );
}
