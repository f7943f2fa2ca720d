/**
 * Drives the real built binary (dist/bin.js) on tiny configs: every subcommand, and the clear errors for
 * bad configs, missing files and unknown plugins. The nx `test` target builds the CLI and its
 * dependencies first.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { TextCorpus } from '@pretrain/corpus';
import { fromTokenizerJSON } from '@pretrain/tokenizer';
import { BIN, DATA_DIR, installToyObjectivePackage, runBin, tempDir, trainTokenizerWithBin, writeJson } from './test-utils/run-bin';

const SMALL_BOOK = path.join(DATA_DIR, 'gutenberg', 'pg11.txt');
const TINY_BERT = { hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 };
const TINY_TRAINER = { maxSteps: 3, batchSize: 4, maxLength: 32, learningRate: 1e-3, logEverySteps: 1 };

let work: string;
let tokenizerFile: string;

beforeAll(() => {
  work = tempDir('bin');
  tokenizerFile = trainTokenizerWithBin(work, SMALL_BOOK, 400);
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** Tokens of SMALL_BOOK read and tokenized sentence by sentence in this process, as `--input` reads it. */
async function tokensOfBook(): Promise<number> {
  const tokenizer = fromTokenizerJSON(fs.readFileSync(tokenizerFile, 'utf8'));
  let tokens = 0;
  for await (const document of new TextCorpus({ paths: [SMALL_BOOK] }).documents({ split: 'train', seed: 0 })) {
    for (const sentence of document.sentences) tokens += tokenizer.encode(sentence, null, { addSpecialTokens: false }).ids.length;
  }
  return tokens;
}

function pretrainConfig(dir: string, overrides: Record<string, unknown> = {}): string {
  const tokenizerVocab = JSON.parse(fs.readFileSync(tokenizerFile, 'utf8')).model.vocab;
  return writeJson(path.join(dir, 'pretrain.json'), {
    name: 'tiny-bert',
    corpus: { name: 'text', options: { paths: [SMALL_BOOK], stripGutenberg: true, validationFraction: 0.05 } },
    model: { name: 'bert', options: { ...TINY_BERT, vocabSize: Object.keys(tokenizerVocab).length } },
    objectives: [{ name: 'mlm' }, { name: 'nsp' }],
    trainer: TINY_TRAINER,
    ...overrides,
  });
}

function sentimentConfig(dir: string): string {
  const vocabSize = Object.keys(JSON.parse(fs.readFileSync(tokenizerFile, 'utf8')).model.vocab).length;
  const rows = fs.readFileSync(path.join(DATA_DIR, 'sentiment', 'yelp_labelled.txt'), 'utf8').split('\n').filter(Boolean);
  fs.writeFileSync(path.join(dir, 'train.tsv'), rows.slice(0, 48).join('\n'));
  fs.writeFileSync(path.join(dir, 'test.tsv'), rows.slice(900, 932).join('\n'));
  return writeJson(path.join(dir, 'sentiment.yaml'.replace('.yaml', '.json')), {
    name: 'tiny-sentiment',
    model: { name: 'bert', options: { ...TINY_BERT, vocabSize } },
    head: { name: 'sequence-classification', options: { numLabels: 2 } },
    data: { train: { path: 'train.tsv' }, test: { path: 'test.tsv' }, labels: ['0', '1'] },
    trainer: { ...TINY_TRAINER, maxSteps: 4 },
  });
}

describe('pretrain binary: help and usage', () => {
  it('lists every subcommand in --help', () => {
    const result = runBin(['--help']);
    expect(result.status).toBe(0);
    for (const command of ['tokenizer train', 'corpus prepare', 'pretrain', 'finetune', 'evaluate', 'predict', 'generate', 'search', 'demo']) {
      expect(result.stdout).toContain(`  ${command} `);
    }
  });

  it.each([['tokenizer', 'train'], ['corpus', 'prepare'], ['pretrain'], ['finetune'], ['evaluate'], ['predict'], ['generate'], ['search'], ['demo']])('%s %s --help shows usage and options', (...words) => {
    const command = words.filter((w) => typeof w === 'string' && w) as string[];
    const result = runBin([...command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Usage: pretrain ${command.join(' ')}`);
    expect(result.stdout).toContain('--verbose');
  });

  it('rejects an unknown command and an unknown flag with exit code 2', () => {
    const unknown = runBin(['pretrian']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "pretrian"');
    const flag = runBin(['pretrain', '--max-stepz', '3']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--max-stepz'.*pretrain pretrain --help/);
    expect(flag.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('pretrain binary: clear errors', () => {
  it('a missing config file names the file, no stack trace; --verbose adds the stack', () => {
    const result = runBin(['pretrain', '-c', '/nonexistent/exp.yaml']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('error: Cannot read config /nonexistent/exp.yaml: no such file');
    const verbose = runBin(['pretrain', '-c', '/nonexistent/exp.yaml', '--verbose']);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('invalid YAML names the line', () => {
    const dir = tempDir('yaml');
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'model:\n  name: bert\n  options: {hiddenSize: 32\nobjectives: []\n');
    const result = runBin(['pretrain', '-c', path.join(dir, 'bad.yaml')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/error: Invalid YAML in .*bad\.yaml at line \d/);
  });

  it('a wrongly typed option names its config path', () => {
    const dir = tempDir('badopt');
    const config = pretrainConfig(dir, { objectives: [{ name: 'mlm', options: { maskProbability: 'lots' } }, { name: 'nsp' }] });
    const result = runBin(['pretrain', '-c', config, '-t', tokenizerFile]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('objectives[0].options.maskProbability: expected number, received string');
  });

  it('a bad trainer value and an unknown section are reported by path', () => {
    const dir = tempDir('badtrainer');
    const config = pretrainConfig(dir, { trainer: { maxSteps: -1 }, modle: {} });
    const result = runBin(['pretrain', '-c', config, '-t', tokenizerFile]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/trainer\.maxSteps: .*(>0|positive|greater)/i);
  });

  it('an unknown short name lists the known plugins; an unknown package says it is not installed', () => {
    const dir = tempDir('unknown');
    const shortName = runBin(['pretrain', '-c', pretrainConfig(dir, { objectives: [{ name: 'mlmm' }, { name: 'nsp' }] }), '-t', tokenizerFile]);
    expect(shortName.status).toBe(1);
    expect(shortName.stderr).toMatch(/objectives\[0\]\.name: unknown objective plugin "mlmm". Known: .*mlm/);
    const pkg = runBin(['pretrain', '-c', pretrainConfig(dir, { objectives: [{ name: 'mlm' }, { name: 'pretrain-objective-nope' }] }), '-t', tokenizerFile]);
    expect(pkg.status).toBe(1);
    expect(pkg.stderr).toContain('objectives[1].name: unknown plugin "pretrain-objective-nope": not registered and no npm package of that name is installed');
  });

  it('an impossible objective combination is rejected before training', () => {
    const dir = tempDir('combo');
    const result = runBin(['pretrain', '-c', pretrainConfig(dir, { objectives: [{ name: 'clm' }] }), '-t', tokenizerFile]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('needs a causal model');
  });

  it('missing data and checkpoint files are named', () => {
    const dir = tempDir('missing');
    const config = sentimentConfig(dir);
    fs.rmSync(path.join(dir, 'train.tsv'));
    const finetune = runBin(['finetune', '-c', config, '-t', tokenizerFile, '-o', path.join(dir, 'run')]);
    expect(finetune.status).toBe(1);
    expect(finetune.stderr).toContain(`Labeled data file ${path.join(dir, 'train.tsv')} does not exist`);
    const predict = runBin(['predict', '--checkpoint', path.join(dir, 'nope'), '--text', 'hi']);
    expect(predict.status).toBe(1);
    expect(predict.stderr).toContain(`Checkpoint ${path.join(dir, 'nope')} does not exist`);
    const tokenizer = runBin(['pretrain', '-c', pretrainConfig(dir), '-t', path.join(dir, 'no-tokenizer.json')]);
    expect(tokenizer.stderr).toContain('no-tokenizer.json does not exist');
  });
});

describe('pretrain binary: every subcommand on a tiny config', () => {
  it('tokenizer train wrote an HF tokenizer.json', () => {
    const json = JSON.parse(fs.readFileSync(tokenizerFile, 'utf8'));
    expect(json.model.type).toBe('WordPiece');
    expect(Object.keys(json.model.vocab).length).toBeGreaterThan(100);
  });

  it('corpus prepare counts documents, sentences and tokens, from the token cache it writes', async () => {
    const out = path.join(work, 'corpus');
    const result = runBin(['corpus', 'prepare', '--input', SMALL_BOOK, '-t', tokenizerFile, '-o', out]);
    expect(result.status).toBe(0);
    const stats = JSON.parse(fs.readFileSync(path.join(out, 'corpus-stats.json'), 'utf8'));
    expect(stats.documents).toBeGreaterThan(0);
    expect(stats.sentences).toBeGreaterThan(100);
    expect(stats.tokens).toBeGreaterThan(stats.sentences);
    // The counts come from the token cache the command writes; tokenizing the book here must agree.
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'token-cache', 'manifest.json'), 'utf8'));
    expect(manifest.totals.tokens).toBe(stats.tokens);
    expect(stats.tokens).toBe(await tokensOfBook());
    expect(result.stdout).toContain(`--token-cache ${path.join(out, 'token-cache')}`);
  });

  it('pretrain --token-cache reads the prepared ids, and refuses a cache built with another tokenizer', () => {
    const dir = tempDir('pretrain-cache');
    const cache = path.join(work, 'corpus', 'token-cache');
    const result = runBin(['pretrain', '-c', pretrainConfig(dir), '-t', tokenizerFile, '-o', path.join(dir, 'run'), '--set', 'trainer.maxSteps=2', '--token-cache', cache]);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/pre-training: 2 steps/);
    const manifestFile = path.join(cache, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    const other = path.join(dir, 'other-cache');
    fs.cpSync(cache, other, { recursive: true });
    writeJson(path.join(other, 'manifest.json'), { ...manifest, tokenizerHash: 'another-tokenizer' });
    const refused = runBin(['pretrain', '-c', pretrainConfig(dir), '-t', tokenizerFile, '-o', path.join(dir, 'run2'), '--set', 'trainer.maxSteps=2', '--token-cache', other]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('token cache was built with tokenizer another-tokenizer');
  });

  let pretrained: string;
  it('pretrain writes the run folder: resolved config, metrics.jsonl, HF checkpoint, report.html', () => {
    const dir = tempDir('pretrain');
    const out = path.join(dir, 'run');
    const result = runBin(['pretrain', '-c', pretrainConfig(dir), '-t', tokenizerFile, '-o', out, '--set', 'trainer.maxSteps=4']);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/pre-training: 4 steps/);
    const resolved = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(resolved.trainer.maxSteps).toBe(4);
    expect(resolved.objectives[0].options.maskProbability).toBe(0.15);
    const metrics = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.type === 'train').map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(metrics.every((m) => m.type !== 'train' || Number.isFinite(m.loss))).toBe(true);
    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'pretrain_plugins.json']) expect(fs.existsSync(path.join(out, 'checkpoint', file))).toBe(true);
    expect(fs.existsSync(path.join(out, 'checkpoint-4', 'trainer_state.json'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'config.json'), 'utf8')).model_type).toBe('bert');
    const header = readSafetensorsNames(path.join(out, 'checkpoint', 'model.safetensors'));
    expect(header).toContain('bert.embeddings.word_embeddings.weight');
    expect(header).toContain('cls.seq_relationship.weight');
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<canvas id="loss">');
    pretrained = path.join(out, 'checkpoint');
  });

  it('Ctrl-C (SIGINT) stops after the current step, writes a checkpoint and exits 130; resume continues from it', async () => {
    const dir = tempDir('sigint');
    const out = path.join(dir, 'run');
    const child = spawn(process.execPath, [BIN, 'pretrain', '-c', pretrainConfig(dir), '-t', tokenizerFile, '-o', out, '--set', 'trainer.maxSteps=100000'], { env: { ...process.env, PRETRAIN_BACKEND: 'wasm' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/step 2\//.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toContain('SIGINT: finishing the current step and writing a checkpoint');
    expect(code).toBe(130);
    const match = /Interrupted: stopped cleanly, checkpoint written to (.*checkpoint-(\d+))/.exec(stderr);
    expect(match).not.toBeNull();
    expect(fs.existsSync(path.join(match![1], 'model.safetensors'))).toBe(true);
    const stoppedAt = Number(match![2]);
    const resumed = runBin(['pretrain', '-c', pretrainConfig(dir), '-t', tokenizerFile, '-o', out, '--set', `trainer.maxSteps=${stoppedAt + 2}`, '--set', 'trainer.resume=true']);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toContain(`pre-training: ${stoppedAt + 2} steps`);
  });

  it('a third-party objective resolves by npm package name from next to the config', () => {
    const dir = tempDir('thirdparty');
    installToyObjectivePackage(dir, 'pretrain-objective-toy');
    const config = pretrainConfig(dir, { objectives: [{ name: 'nsp' }, { name: 'pretrain-objective-toy', options: { scale: 0.5 }, weight: 0.1 }] });
    const result = runBin(['pretrain', '-c', config, '-t', tokenizerFile, '-o', path.join(dir, 'run')]);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    const resolved = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'config.json'), 'utf8'));
    expect(resolved.objectives[1]).toEqual({ name: 'shrink-hidden', options: { scale: 0.5 }, weight: 0.1 });
  });

  let finetuned: string;
  let sentimentDir: string;
  it('finetune from the pre-trained checkpoint writes a classification checkpoint', () => {
    sentimentDir = tempDir('finetune');
    const out = path.join(sentimentDir, 'run');
    const result = runBin(['finetune', '-c', sentimentConfig(sentimentDir), '--from', pretrained, '-o', out]);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/validation accuracy (0|1)\.\d{4} \(10 examples\)/);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(readSafetensorsNames(path.join(out, 'checkpoint', 'model.safetensors'))).toContain('classifier.weight');
    finetuned = path.join(out, 'checkpoint');
  });

  it('evaluate reports test accuracy', () => {
    const result = runBin(['evaluate', '-c', path.join(sentimentDir, 'sentiment.json'), '--checkpoint', finetuned]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/test\s+32\s+(0|1)\.\d{4}/);
  });

  it('predict prints one JSON line per text with label probabilities', () => {
    const result = runBin(['predict', '--checkpoint', finetuned, '--text', 'Great food.', '--text', 'Terrible service.']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.text)).toEqual(['Great food.', 'Terrible service.']);
    for (const line of lines) {
      expect(['0', '1']).toContain(line.label);
      expect(line.scores['0'] + line.scores['1']).toBeCloseTo(1, 3);
    }
  });

  it('predict refuses a pre-training checkpoint (no task head)', () => {
    const result = runBin(['predict', '--checkpoint', pretrained, '--text', 'x']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('has no task head');
  });

  it('search runs one fine-tuning per grid point and reports the best', () => {
    const out = path.join(sentimentDir, 'search');
    const result = runBin(['search', '-c', path.join(sentimentDir, 'sentiment.json'), '--from', pretrained, '--grid', 'trainer.learningRate=1e-3,1e-4', '-o', out, '--set', 'trainer.maxSteps=2']);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'search-results.json'), 'utf8'));
    expect(results.results.map((r: { assignment: unknown }) => r.assignment)).toEqual([{ 'trainer.learningRate': 0.001 }, { 'trainer.learningRate': 0.0001 }]);
    expect(fs.existsSync(path.join(out, 'trial-2', 'checkpoint', 'model.safetensors'))).toBe(true);
    expect(result.stdout).toMatch(/best: trial [12]/);
  });

  it('tokenizer train --type bpe, pretrain a GPT with CLM, then generate samples from it (and refuse a BERT checkpoint)', () => {
    const dir = tempDir('gpt');
    const bpe = runBin(['tokenizer', 'train', '--type', 'bpe', '--input', SMALL_BOOK, '--vocab-size', '400', '-o', path.join(dir, 'bpe')]);
    expect(bpe.status).toBe(0);
    const bpeJson = JSON.parse(fs.readFileSync(path.join(dir, 'bpe', 'tokenizer.json'), 'utf8'));
    expect(bpeJson.model.type).toBe('BPE');
    expect(bpeJson.pre_tokenizer.type).toBe('ByteLevel');
    const vocabSize = Object.keys(bpeJson.model.vocab).length;
    const endOfText = bpeJson.model.vocab['<|endoftext|>'];
    const config = writeJson(path.join(dir, 'gpt.json'), {
      corpus: { name: 'text', options: { paths: [SMALL_BOOK], stripGutenberg: true, validationFraction: 0.05 } },
      model: { name: 'gpt2', options: { vocabSize, nEmbd: 32, nLayer: 2, nHead: 2, nPositions: 64, bosTokenId: endOfText, eosTokenId: endOfText } },
      objectives: [{ name: 'clm' }],
      trainer: TINY_TRAINER,
    });
    const out = path.join(dir, 'run');
    const train = runBin(['pretrain', '-c', config, '-t', path.join(dir, 'bpe', 'tokenizer.json'), '-o', out]);
    expect(train.stderr).not.toContain('error:');
    expect(train.status).toBe(0);
    const result = runBin(['generate', '--checkpoint', path.join(out, 'checkpoint'), '--prompt', 'Alice was', '--max-new-tokens', '5', '--samples', '2']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--- sample 1\nAlice was');
    expect(result.stdout).toContain('--- sample 2\nAlice was');
    const bert = runBin(['generate', '--checkpoint', pretrained, '--prompt', 'x']);
    expect(bert.status).toBe(1);
    expect(bert.stderr).toContain('generate needs a causal (GPT-style) model');
  });

  it('demo --preset smoke runs tokenizer → pre-training → fine-tuning comparison and writes the report', () => {
    const out = path.join(work, 'demo');
    const result = runBin(['demo', '--preset', 'smoke', '-o', out]);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/pre-training loss .*before \d+\.\d+ → after \d+\.\d+/);
    expect(result.stdout).toMatch(/part-of-speech tags \(word accuracy\): labeled sentences\s+scratch\s+live\s+gain \(95% interval\)/);
    expect(result.stdout).toMatch(/\n20\s+0\.\d+\s+0\.\d+\s+[+-]\d+\.\d ± \d+\.\d pt/);
    expect(result.stdout).toMatch(/sentiment \(accuracy\): labeled sentences/);
    expect(result.stdout).toMatch(/\n100\s+0\.\d+\s+0\.\d+\s+[+-]\d+\.\d ± \d+\.\d pt/);
    expect(result.stdout).toMatch(/This run's pre-training \(8 pre-training steps of 8 × 32 tokens\) beats training from scratch on (none|\d) of 2 tasks/);
    expect(result.stdout).toMatch(/ {2}part-of-speech tags: .*[+-]\d+\.\d ± \d+\.\d pt on average over 2 sizes \(paired 95% intervals\)/);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.charts.map((c: { id: string }) => c.id)).toEqual(['pretrain-loss', 'accuracy-pos', 'accuracy-sentiment', 'finetune-loss']);
    expect(report.charts[1].series.map((s: { points: unknown[] }) => s.points.length)).toEqual([2, 2]);
    const accuracyTables = report.tables.slice(0, 2);
    for (const table of accuracyTables) {
      expect(table.columns).toEqual(['labeled sentences', 'from scratch', 'live', 'live gain', '±']);
      for (const [, scratch, live, gain, halfWidth] of table.rows) {
        expect(gain).toBeCloseTo(live - scratch, 10);
        expect(halfWidth).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

function readSafetensorsNames(file: string): string[] {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return Object.keys(JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'))).filter((k) => k !== '__metadata__');
}
