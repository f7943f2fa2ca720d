/**
 * No documented `pretrain` command can drift.
 *
 * - Every `pretrain` command line in a ```sh block of docs/, README.md, packages/* /README.md and tools/* /README.md
 *   (also `node packages/cli/dist/bin.js ...`) is run by a test: docs/cli.md and docs/guides/pretrain-gpt.md by
 *   cli-doc.test.ts, docs/guides/finetune-your-data.md by finetune-guide.test.ts, the others here. A new document
 *   with commands fails the coverage check until a test runs it.
 * - Every config a command names (`-c FILE`, in blocks, in inline code and in the commands' --help examples) is a
 *   file in the repository.
 * - The guides run here run as written from the repository root, in order, outputs (`runs/`, `export/`) redirected
 *   to a temporary folder and training capped at 2 steps of batch 4. What cannot run here is only parsed and
 *   says why: `npx pretrain demo` (the demo is minutes long), `PRETRAIN_BACKEND=tensorflow` (needs the optional
 *   GPU package). scale-out.md's `--from out/bert` is PyTorch's output: the HF folder `pretrain export` wrote
 *   earlier in the same guide (`export/bert-model`) stands in for it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCommandArgs } from './command';
import { allCommands } from './commands';
import { findCommand } from './main';
import { REPO_ROOT, runBin, tempDir } from './test-utils/run-bin';

/** Markdown files that may hold commands, relative to the repository root. */
function markdownFiles(): string[] {
  const files: string[] = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) files.push(rel);
    }
  };
  walk('docs');
  for (const parent of ['packages', 'tools']) {
    for (const dir of fs.readdirSync(path.join(REPO_ROOT, parent))) {
      const readme = path.join(parent, dir, 'README.md');
      if (fs.existsSync(path.join(REPO_ROOT, readme))) files.push(readme);
    }
  }
  return files.sort();
}

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** `pretrain` command lines of the ```sh blocks (continuations joined, comments dropped), as `pretrain ...`. */
function pretrainLines(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1].replace(/\\\n\s*/g, '').split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .map((l) => l.replace(/^node packages\/cli\/dist\/bin\.js /, 'pretrain '))
    .filter((l) => /^([A-Z_]+=\S+ )*(npx )?pretrain /.test(l));
}

function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** Config files named by `-c` / `--config` in a text. */
function configsNamed(text: string): string[] {
  return [...text.matchAll(/pretrain [^`\n]*?(?:-c|--config) (\S+?)[`\s]/g)].map((m) => m[1]);
}

const RUN_ELSEWHERE: Record<string, string> = {
  'docs/cli.md': 'cli-doc.test.ts',
  'docs/guides/pretrain-gpt.md': 'cli-doc.test.ts',
  'docs/guides/finetune-your-data.md': 'finetune-guide.test.ts',
};
const RUN_HERE = ['docs/guides/hyperparameter-search.md', 'docs/guides/pretrain-bert.md', 'docs/guides/scale-out.md', 'packages/cli/README.md'];

describe('documented pretrain commands', () => {
  it('every document with pretrain commands is run by a test', () => {
    const withCommands = markdownFiles().filter((f) => pretrainLines(read(f)).length > 0);
    expect(withCommands.sort()).toEqual([...Object.keys(RUN_ELSEWHERE), ...RUN_HERE].sort());
  });

  it('every config a document or a --help example names with -c is a file in the repository', () => {
    const named: { where: string; config: string }[] = [];
    for (const file of markdownFiles()) for (const config of configsNamed(read(file))) named.push({ where: file, config });
    for (const command of allCommands) for (const config of configsNamed(`${command.details ?? ''}\n`)) named.push({ where: `pretrain ${command.path.join(' ')} --help`, config });
    expect(named.length).toBeGreaterThan(30);
    const missing = named.filter(({ config }) => !fs.existsSync(path.join(REPO_ROOT, config)));
    expect(missing).toEqual([]);
  });
});

/** Runs a document's command lines in order in `work`; returns stdout per line ('' for the parsed-only ones). */
function runInOrder(lines: string[], work: string, rewrite: (args: string[]) => string[] = (a) => a): string[] {
  return lines.map((line) => {
    const words = shellWords(line);
    const env = words.filter((w, i) => i < words.indexOf('pretrain') && /^[A-Z_]+=/.test(w));
    const npx = words[0] === 'npx' || words[env.length] === 'npx';
    const args = rewrite(words.slice(words.indexOf('pretrain') + 1).map((w) => w.replace(/^(runs|export)\//, `${work}/$1/`)));
    if (npx || env.length > 0) {
      // `npx pretrain demo` is minutes long; PRETRAIN_BACKEND=tensorflow needs @tensorflow/tfjs-node-gpu: parsed only.
      const { command, rest } = findCommand(allCommands, args);
      expect({ line, command: command?.path.join(' ') ?? (args[0] === '--help' ? 'help' : undefined) }).toEqual({ line, command: expect.any(String) });
      if (command) expect(() => parseCommandArgs(command, rest)).not.toThrow();
      return '';
    }
    if (['pretrain', 'finetune', 'search'].includes(args[0])) args.push('--set', 'trainer.maxSteps=2', '--set', 'trainer.batchSize=4');
    const result = runBin(args);
    expect({ line, status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ line, status: 0, stderr: '' });
    return result.stdout;
  });
}

describe('guides run as written', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir('docs');
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('docs/guides/pretrain-bert.md: shows docs/examples/bert.yaml as it is; tokenizer, pre-training, export, the stated-score stage run', () => {
    const guide = read('docs/guides/pretrain-bert.md');
    const indented = read('docs/examples/bert.yaml')
      .split('\n')
      .map((l) => (l ? `   ${l}` : l))
      .join('\n');
    expect(guide).toContain(`   \`\`\`yaml\n${indented}   \`\`\``);
    const lines = pretrainLines(guide);
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['tokenizer', 'pretrain', 'export', 'pretrain']);
    const outputs = runInOrder(lines, work);
    const config = JSON.parse(fs.readFileSync(path.join(work, 'export', 'my-bert', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architectures: ['BertForPreTraining'], hidden_size: 256, num_hidden_layers: 4, vocab_size: 8000 });
    // Study item 10 through the CLI: the committed checkpoint continued with stated score (a backbone with no HF head class).
    expect(outputs[3]).toMatch(/held-out loss \d/);
    const staged = JSON.parse(fs.readFileSync(path.join(work, 'runs', 'bert-stated-score', 'checkpoint', 'config.json'), 'utf8'));
    expect(staged).toMatchObject({ architectures: ['BertModel'], hidden_size: 128, vocab_size: 2000 });
  });

  it('docs/guides/scale-out.md: tokenize, pre-train, export model and data, fine-tune from the HF folder, evaluate', () => {
    const lines = pretrainLines(read('docs/guides/scale-out.md'));
    expect(lines.length).toBe(9);
    const outputs = runInOrder(lines, work, (args) => args.map((a) => (a === 'out/bert' ? `${work}/export/bert-model` : a)));
    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt', 'pretrain_export.json']) expect(fs.existsSync(path.join(work, 'export', 'bert-model', file))).toBe(true);
    for (const file of ['train.jsonl', 'validation.jsonl']) expect(fs.existsSync(path.join(work, 'export', 'bert-data', file))).toBe(true);
    for (const file of ['train.bin', 'val.bin', 'export.json']) expect(fs.existsSync(path.join(work, 'export', 'bert-nanogpt', file))).toBe(true);
    expect(outputs[6]).toMatch(/validation accuracy/);
    expect(outputs[7]).toMatch(/accuracy/);
  });

  it('docs/guides/hyperparameter-search.md: the search, then evaluate of the trial it picked', () => {
    const lines = pretrainLines(read('docs/guides/hyperparameter-search.md'));
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['search', 'evaluate']);
    let best = '';
    const outputs = runInOrder(lines, work, (args) => {
      if (args[0] === 'search') return args;
      best = String(JSON.parse(fs.readFileSync(path.join(work, 'runs', 'search', 'search-results.json'), 'utf8')).best.trial);
      return args.map((a) => a.replace('trial-<best>', `trial-${best}`));
    });
    expect(outputs[0]).toContain(`best: trial ${best}`);
    expect(fs.readdirSync(path.join(work, 'runs', 'search')).filter((f) => f.startsWith('trial-')).length).toBe(6);
    expect(outputs[1]).toMatch(/accuracy/);
  });

  it('packages/cli/README.md: the runnable example (npx lines parsed only)', () => {
    const lines = pretrainLines(read('packages/cli/README.md'));
    expect(lines.length).toBe(7);
    runInOrder(lines, work);
    expect(fs.existsSync(path.join(work, 'export', 'data', 'train.jsonl'))).toBe(true);
  });
});
