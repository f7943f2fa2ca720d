/**
 * Every documented `node tools/...` command runs from the repository root, so a tools/ script cannot silently
 * break again (as when tools/scripts/run-ts.js resolved `@pretrain/core/lite` to `src/index.ts/lite`).
 *
 * The commands are read from the ```sh blocks of docs/ and of tools/* /README.md, continuations joined, and run
 * as written with their sizes turned down to the smallest they accept: 1-2 steps, 8 training and 4 evaluation
 * examples, 16×16 matmuls, outputs in a temporary folder. The fine-tuning benchmark reads `--data` laid out like
 * ../shared/data, built here from the samples in the repository (data/tasks, data/gutenberg and the
 * bert-base-uncased tokenizer of fixtures/), so the test needs nothing outside the repository. `path/to/bert` in
 * the tool's README is the model the previous command pre-trained. The bench's comparisons run one block of one
 * step on one thread (the plain `train` line all three workloads, the others BERT-mini); their PyTorch peer runs
 * only where python3 has torch (the test name says when it was skipped), `--native` only where cc + OpenBLAS are
 * installed (the bench says so and runs wasm alone). `node tools/scripts/pack-all.js` (docs/guides/release.md,
 * prose) is run by tools/release's install test.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../..');

function markdownFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) files.push(rel);
    }
  };
  walk('docs');
  for (const dir of fs.readdirSync(path.join(ROOT, 'tools'))) if (fs.existsSync(path.join(ROOT, 'tools', dir, 'README.md'))) files.push(path.join('tools', dir, 'README.md'));
  return files.sort();
}

/** `node tools/...` lines of the ```sh blocks, in document order, as { file, line }. */
function documentedCommands(): { file: string; line: string }[] {
  return markdownFiles().flatMap((file) =>
    [...fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)]
      .flatMap((m) => m[1].replace(/\\\n\s*/g, ' ').split('\n'))
      .map((l) => l.replace(/\s+#.*$/, '').replace(/\s+/g, ' ').trim())
      .filter((line) => /^(node tools\/|python3? \S*tools\/)/.test(line))
      .map((line) => ({ file, line })),
  );
}

/** Sets `--name value` (replacing the documented value, or appending the flag). */
function withOption(args: string[], name: string, value?: string): string[] {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return value === undefined ? [...args, `--${name}`] : [...args, `--${name}`, value];
  const copy = [...args];
  if (value !== undefined) copy[at + 1] = value;
  return copy;
}

/** A folder laid out like ../shared/data with the repository's samples. */
function sharedDataLike(dir: string): string {
  const link = (target: string, at: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, at)), { recursive: true });
    fs.symlinkSync(path.join(ROOT, target), path.join(dir, at));
  };
  link('fixtures/data/tokenizer/bert-base-uncased/tokenizer.json', 'tokenizers/bert-base-uncased/tokenizer.json');
  for (const book of ['pg1342.txt', 'pg11.txt', 'pg84.txt', 'pg1661.txt', 'pg2701.txt', 'pg74.txt']) link(`data/gutenberg/${book}`, `corpus/gutenberg/${book}`);
  fs.mkdirSync(path.join(dir, 'corpus/wikitext-2-raw'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'corpus/wikitext-2-raw/wiki.valid.raw'), ' = Robert Boulter = \n\n Robert Boulter is an English film and television actor . He had a guest role in 2000 . \n\n');
  link('data/tasks/sst2-train-48.tsv', 'sentiment/sst2/train.tsv');
  link('data/tasks/sst2-dev-24.tsv', 'sentiment/sst2/dev.tsv');
  link('data/tasks/stsb-train-48.tsv', 'pairs/STS-B/train.tsv');
  link('data/tasks/stsb-dev-24.tsv', 'pairs/STS-B/dev.tsv');
  link('data/tasks/conll2003-train-48.txt', 'ner/conll2003/train.txt');
  link('data/tasks/conll2003-dev-24.txt', 'ner/conll2003/valid.txt');
  // One shard of two articles: the tool holds out the last 10% of titles (here the dev article).
  const squad = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'data/tasks', file), 'utf8'));
  const shard = { version: '1.1', data: [...squad('squad-train-24.json').data, ...squad('squad-dev-12.json').data] };
  fs.mkdirSync(path.join(dir, 'qa/squad-v1.1'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'qa/squad-v1.1/train-v1.1.reconstructed.part00.json'), JSON.stringify(shard));
  link('data/tasks/squad-dev-12.json', 'qa/squad-v1.1/train-v1.1.reconstructed.part01.json');
  return dir;
}

/** Whether a Python with torch is found where tools/bench looks for its peer. */
function hasTorch(): boolean {
  const candidates = [process.env.PRETRAIN_BENCH_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter((p): p is string => !!p);
  return candidates.some((python) => spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

let work: string;
let data: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-tools-'));
  data = sharedDataLike(path.join(work, 'shared-data'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const commands = documentedCommands();

describe('documented tools/ commands', () => {
  it('are found: the benchmarks, the backend matmul bench and the fine-tuning bench (library and CLI)', () => {
    expect(commands.map((c) => `${c.file}: ${c.line.split(' ').slice(1, 3).join(' ')}`)).toEqual([
      'docs/backends.md: tools/bench/run.js matmul',
      'docs/backends.md: tools/bench/run.js matmul',
      'docs/benchmarks.md: tools/finetune-bench/run.js finetune',
      'docs/benchmarks.md: tools/finetune-bench/run.js finetune',
      'docs/benchmarks.md: tools/finetune-bench/run.js finetune',
      'docs/benchmarks.md: tools/finetune-bench/cli.js --tasks',
      'docs/benchmarks.md: tools/finetune-bench/cli.js --tasks',
      'docs/benchmarks.md: tools/finetune-bench/cli.js --tasks',
      'docs/benchmarks.md: tools/bench/run.js train',
      'docs/benchmarks.md: tools/bench/run.js train',
      'docs/benchmarks.md: tools/bench/run.js train',
      'docs/benchmarks.md: tools/bench/run.js train',
      'docs/benchmarks.md: tools/bench/run.js native',
      'docs/benchmarks.md: tools/bench/run.js train',
      'docs/benchmarks.md: tools/bench/run.js train',
      'docs/benchmarks.md: tools/bench/run.js loss',
      'docs/benchmarks.md: tools/bench/run.js layernorm',
      'tools/finetune-bench/README.md: tools/finetune-bench/run.js finetune',
      'tools/finetune-bench/README.md: tools/finetune-bench/run.js finetune',
      'tools/finetune-bench/README.md: tools/finetune-bench/cli.js --train-limit',
    ]);
  });

  const torch = hasTorch();
  // A line documented twice (docs/benchmarks.md and the tool's README) runs once.
  // `run.js train` without --solo / --no-peer races a PyTorch peer (tools/bench/peer/train_peer.py) when python3 has
  // torch; without it the bench runs ours alone, and the test name says the peer part was skipped.
  const peerNote = (line: string) => (/ train( |$)/.test(line) && !/--solo|--no-peer/.test(line) && !torch ? ' (PyTorch peer skipped: no python with torch)' : '');
  const unique = [...new Set(commands.map((c) => c.line))].map((line) => [commands.filter((c) => c.line === line).map((c) => c.file).join(', '), line, peerNote(line)] as const);
  it.each(unique)('%s: %s%s', (_files, line) => {
    if (line.startsWith('python') && !torch) return; // skipped: python3 has no torch here
    const words = line.split(' ');
    const [script, name] = [words[1], words[2]];
    let args = words.slice(2).map((w) => w.replace(/^runs\//, `${work}/runs/`).replace(/^path\/to\/bert$/, `${work}/runs/finetune-bench/pretrained`));
    if (script === 'tools/bench/run.js' && name === 'matmul') args = withOption(args, 'size', '16');
    if (script === 'tools/bench/run.js' && name === 'train' && args.includes('--solo')) args = withOption(args, 'steps', '1');
    // The comparisons: one block of one step on one thread; the plain `train` line keeps its three workloads, the
    // others (whose own code is the flag, not the workload) run BERT-mini only unless they name a workload.
    if (script === 'tools/bench/run.js' && name === 'train' && !args.includes('--solo')) {
      const plain = args.length === 1;
      args = withOption(withOption(withOption(args, 'blocks', '1'), 'block-steps', '1'), 'threads', '1');
      if (!plain && !args.includes('--config')) args = withOption(args, 'config', 'bert-mini');
    }
    if (script === 'tools/bench/run.js' && name === 'native') args = withOption(withOption(args, 'blocks', '1'), 'config', 'bert-mini');
    if (script === 'tools/bench/run.js' && name === 'layernorm') args = withOption(withOption(args, 'rows', '8'), 'width', '16');
    if (script === 'tools/bench/run.js' && name === 'loss') args = withOption(withOption(args, 'rows', '8'), 'classes', '16');
    if (script === 'tools/finetune-bench/cli.js') {
      for (const [flag, value] of Object.entries({ data, 'train-limit': '8', 'eval-limit': '4', epochs: '1' })) args = withOption(args, flag, value);
      if (!args.includes('--out')) args = withOption(args, 'out', `${work}/runs/finetune-bench-cli`);
    }
    if (script === 'tools/finetune-bench/run.js') {
      for (const [flag, value] of Object.entries({ data, 'pretrain-steps': '2', 'train-limit': '8', 'eval-limit': '4', epochs: '1' })) args = withOption(args, flag, value);
      if (!args.includes('--out')) args = withOption(args, 'out', `${work}/runs/finetune-bench`);
    }
    const result = spawnSync(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PRETRAIN_BACKEND: process.env.PRETRAIN_BACKEND ?? 'wasm' } });
    expect({ line, status: result.status, stderr: result.status === 0 ? '' : `${result.stderr}`.slice(-3000) }).toEqual({ line, status: 0, stderr: '' });
    if (script.startsWith('tools/finetune-bench/')) expect(result.stdout).toMatch(/^\| task \| train examples/);
    if (script === 'tools/finetune-bench/cli.js') {
      const tasks = args.includes('--tasks') ? args[args.indexOf('--tasks') + 1].split(',') : ['sst2', 'conll', 'stsb', 'squad'];
      expect(result.stdout.trim().split('\n').slice(2).map((row) => row.split(' | ')[0].slice(2))).toEqual(tasks);
    }
    if (name === 'matmul') expect(result.stdout).toMatch(/\| wasm/);
    if (name === 'train') expect(result.stdout).toMatch(/ms\/step|ms \/ step|CPU ms/);
    if (name === 'native') expect(result.stdout).toMatch(/backend-native vs core's wasm kernels|backend-native not available/);
    if (name === 'layernorm') expect(result.stdout).toMatch(/fused/);
    if (name === 'loss') expect(result.stdout).toMatch(/fused\/composed/);
  });
});
