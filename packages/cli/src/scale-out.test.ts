/**
 * The hand-off to PyTorch and back, through the built binary: `corpus export` (nanoGPT files and
 * HF-datasets JSON lines), `export` (a self-contained HF folder), and `finetune --from` an HF folder
 * as HF writes it (sharded safetensors, untied LM head), with the refusals for bad input.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Rng, readSafetensors, readSafetensorsHeader, writeSafetensors, type SafetensorsInput } from '@pretrain/core';
import { TokenizedCorpus, readTokenExport } from '@pretrain/corpus';
import { NextSentencePrediction } from '@pretrain/objective-nsp';
import { fromBertVocab, fromGPT2Files, fromTokenizerJSON } from '@pretrain/tokenizer';
import { exampleRecord } from './pipeline/example-export';
import { DATA_DIR, runBin, tempDir, writeJson } from './test-utils/run-bin';

const SMALL_BOOK = path.join(DATA_DIR, 'gutenberg', 'pg11.txt');
const TINY_BERT = { hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 };
const TINY_TRAINER = { maxSteps: 2, batchSize: 4, maxLength: 32, learningRate: 1e-3 };
const SENTENCES = ['Alice was beginning to get very tired of sitting by her sister on the bank.', 'So she was considering in her own mind (as well as she could, for the hot day made her feel very sleepy and stupid)', "Curiouser and curiouser!' cried Alice — naïve café 123"];

let work: string;
let wordpiece: string;
let bpe: string;
let cache: string;
let bertCheckpoint: string;
let gptCheckpoint: string;

function ok(args: string[]): string {
  const result = runBin(args);
  if (result.status !== 0) throw new Error(`pretrain ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const vocabSizeOf = (tokenizerFile: string) => Object.keys(readJson(tokenizerFile).model.vocab).length;

function bertConfig(dir: string, objectives: unknown[]): string {
  return writeJson(path.join(dir, 'bert.json'), {
    corpus: { name: 'text', options: { paths: [SMALL_BOOK], stripGutenberg: true, validationFraction: 0.1 } },
    model: { name: 'bert', options: { ...TINY_BERT, vocabSize: vocabSizeOf(wordpiece) } },
    objectives,
    trainer: TINY_TRAINER,
  });
}

function sentimentConfig(dir: string, model: unknown): string {
  const rows = fs.readFileSync(path.join(DATA_DIR, 'sentiment', 'yelp_labelled.txt'), 'utf8').split('\n').filter(Boolean);
  fs.writeFileSync(path.join(dir, 'train.tsv'), rows.slice(0, 24).join('\n'));
  return writeJson(path.join(dir, 'sentiment.json'), {
    model,
    head: { name: 'sequence-classification', options: { numLabels: 2 } },
    data: { train: { path: 'train.tsv' }, labels: ['0', '1'] },
    trainer: { ...TINY_TRAINER, maxSteps: 1 },
  });
}

beforeAll(() => {
  work = tempDir('scale-out');
  ok(['tokenizer', 'train', '--input', SMALL_BOOK, '--vocab-size', '400', '-o', path.join(work, 'wordpiece')]);
  ok(['tokenizer', 'train', '--type', 'bpe', '--input', SMALL_BOOK, '--vocab-size', '400', '-o', path.join(work, 'bpe')]);
  wordpiece = path.join(work, 'wordpiece', 'tokenizer.json');
  bpe = path.join(work, 'bpe', 'tokenizer.json');
  ok(['corpus', 'prepare', '--input', SMALL_BOOK, '-t', wordpiece, '-o', path.join(work, 'corpus')]);
  cache = path.join(work, 'corpus', 'token-cache');
  ok(['pretrain', '-c', bertConfig(work, [{ name: 'mlm', options: { buildExamples: true } }]), '-t', wordpiece, '-o', path.join(work, 'bert-run')]);
  bertCheckpoint = path.join(work, 'bert-run', 'checkpoint');
  const endOfText = readJson(bpe).model.vocab['<|endoftext|>'];
  const gpt = writeJson(path.join(work, 'gpt.json'), {
    corpus: { name: 'text', options: { paths: [SMALL_BOOK], stripGutenberg: true } },
    model: { name: 'gpt2', options: { vocabSize: vocabSizeOf(bpe), nEmbd: 32, nLayer: 2, nHead: 2, nPositions: 64, bosTokenId: endOfText, eosTokenId: endOfText } },
    objectives: [{ name: 'clm' }],
    trainer: TINY_TRAINER,
  });
  ok(['pretrain', '-c', gpt, '-t', bpe, '-o', path.join(work, 'gpt-run')]);
  gptCheckpoint = path.join(work, 'gpt-run', 'checkpoint');
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('pretrain export: a self-contained HF folder', () => {
  it('BERT (MLM only): BertForMaskedLM without pooler, the same weights, and tokenizer files AutoTokenizer reads', () => {
    const out = path.join(work, 'export-bert');
    expect(ok(['export', '--checkpoint', bertCheckpoint, '-o', out])).toContain('BertForMaskedLM exported to');
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'pretrain_export.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    const config = readJson(path.join(out, 'config.json'));
    expect(config).toEqual(readJson(path.join(bertCheckpoint, 'config.json')));
    expect(config).toMatchObject({ architectures: ['BertForMaskedLM'], model_type: 'bert', vocab_size: 400 });
    expect(fs.readFileSync(path.join(out, 'model.safetensors')).equals(fs.readFileSync(path.join(bertCheckpoint, 'model.safetensors')))).toBe(true);
    const names = [...readSafetensorsHeader(path.join(out, 'model.safetensors')).tensors.keys()];
    expect(names.filter((n) => n.startsWith('bert.pooler.') || n.startsWith('cls.seq_relationship.'))).toEqual([]);
    expect(names).toContain('cls.predictions.transform.dense.weight');
    // transformers' BertTokenizer(Fast) arguments, and its special_tokens_map.json keys.
    expect(readJson(path.join(out, 'tokenizer_config.json'))).toEqual({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 64, clean_up_tokenization_spaces: true, unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' });
    expect(readJson(path.join(out, 'special_tokens_map.json'))).toEqual({ unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' });
    // vocab.txt alone (the slow tokenizer's file) rebuilds the same tokenizer: same ids for every sentence.
    const fast = fromTokenizerJSON(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8'));
    const slow = fromBertVocab(path.join(out, 'vocab.txt'), { lowercase: true });
    for (const sentence of SENTENCES) expect(slow.encode(sentence).ids).toEqual(fast.encode(sentence).ids);
    expect(readJson(path.join(out, 'pretrain_export.json'))).toMatchObject({ tokenizerHash: fast.hash(), architecture: 'BertForMaskedLM' });
    expect(readJson(path.join(cache, 'manifest.json')).tokenizerHash).toBe(fast.hash());
  });

  it('GPT-2 (CLM): GPT2LMHeadModel with vocab.json + merges.txt and generation_config.json', () => {
    const out = path.join(work, 'export-gpt');
    expect(ok(['export', '--checkpoint', gptCheckpoint, '-o', out])).toContain('GPT2LMHeadModel exported to');
    expect(fs.readdirSync(out).sort()).toEqual(['config.json', 'generation_config.json', 'merges.txt', 'model.safetensors', 'pretrain_export.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
    const config = readJson(path.join(out, 'config.json'));
    expect(config.architectures).toEqual(['GPT2LMHeadModel']);
    expect([...readSafetensorsHeader(path.join(out, 'model.safetensors')).tensors.keys()]).not.toContain('lm_head.weight');
    const endOfText = readJson(bpe).model.vocab['<|endoftext|>'];
    expect(readJson(path.join(out, 'generation_config.json'))).toEqual({ _from_model_config: true, bos_token_id: endOfText, eos_token_id: endOfText });
    expect(readJson(path.join(out, 'tokenizer_config.json'))).toEqual({ tokenizer_class: 'GPT2Tokenizer', model_max_length: 64, add_prefix_space: false, clean_up_tokenization_spaces: false, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' });
    expect(fs.readFileSync(path.join(out, 'merges.txt'), 'utf8').split('\n')[0]).toBe('#version: 0.2');
    const fast = fromTokenizerJSON(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8'));
    const slow = fromGPT2Files(path.join(out, 'vocab.json'), path.join(out, 'merges.txt'));
    for (const sentence of SENTENCES) expect(slow.encode(sentence).ids).toEqual(fast.encode(sentence).ids);
  });

  it('refuses a non-empty output folder unless --force, then replaces it', () => {
    const out = tempDir('export-force');
    fs.writeFileSync(path.join(out, 'keep.txt'), 'x');
    const refused = runBin(['export', '--checkpoint', bertCheckpoint, '-o', out]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`error: ${out}: folder is not empty; choose an empty or new folder, or pass --force to replace it`);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
    ok(['export', '--checkpoint', bertCheckpoint, '-o', out, '--force']);
    expect(fs.readdirSync(out)).toContain('model.safetensors');
    expect(fs.readdirSync(out)).not.toContain('keep.txt');
  });

  it('refuses a checkpoint whose tokenizer has more ids than the model, or whose weights are truncated, naming the file', () => {
    const copy = path.join(tempDir('export-bad'), 'checkpoint');
    fs.cpSync(bertCheckpoint, copy, { recursive: true });
    writeJson(path.join(copy, 'config.json'), { ...readJson(path.join(copy, 'config.json')), vocab_size: 300 });
    const vocab = runBin(['export', '--checkpoint', copy, '-o', path.join(copy, '..', 'out1')]);
    expect(vocab.status).toBe(1);
    expect(vocab.stderr).toContain(`error: ${path.join(copy, 'config.json')}: vocab_size 300 is smaller than the tokenizer's 400 tokens`);
    fs.copyFileSync(path.join(bertCheckpoint, 'config.json'), path.join(copy, 'config.json'));
    const weights = path.join(copy, 'model.safetensors');
    fs.truncateSync(weights, fs.statSync(weights).size - 100);
    const truncated = runBin(['export', '--checkpoint', copy, '-o', path.join(copy, '..', 'out2')]);
    expect(truncated.status).toBe(1);
    expect(truncated.stderr).toContain(`error: ${weights}: `);
    expect(fs.existsSync(path.join(copy, '..', 'out2'))).toBe(false);
  });
});

describe('pretrain corpus export', () => {
  it('nanogpt: the files read back to exactly the token cache; a cache of another tokenizer is refused', () => {
    const out = path.join(work, 'nanogpt');
    expect(ok(['corpus', 'export', '--token-cache', cache, '-t', wordpiece, '--validation-fraction', '0.1', '-o', out])).toMatch(/train: \d+ documents, \d+ tokens → .*train\.bin \(uint16\)/);
    const corpus = TokenizedCorpus.open(cache, { shuffle: false, validationFraction: 0.1 });
    for (const split of ['train', 'validation'] as const) {
      const expected = Array.from(corpus.indicesOf(split), (g) => corpus.readDocument(g).sentences.map((s) => Array.from(s)));
      expect([...readTokenExport(out, split)].map((d) => d.sentences.map((s) => Array.from(s)))).toEqual(expected);
    }
    corpus.close();
    const refused = runBin(['corpus', 'export', '--token-cache', cache, '-t', bpe, '-o', path.join(work, 'nanogpt-bpe')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/token cache was built with tokenizer [0-9a-f]+, not [0-9a-f]+; rebuild it/);
  });

  it('jsonl: the examples the config objectives build (MLM + NSP pairs), with HF column names', async () => {
    const out = path.join(work, 'jsonl');
    const config = bertConfig(tempDir('jsonl-config'), [{ name: 'mlm' }, { name: 'nsp' }]);
    expect(ok(['corpus', 'export', '--format', 'jsonl', '--token-cache', cache, '-c', config, '-t', wordpiece, '-o', out])).toContain('objectives mlm + nsp, maxLength 32');
    const header = readJson(path.join(out, 'export.json'));
    expect(header).toMatchObject({ format: 'pretrain-jsonl', objectives: ['mlm', 'nsp'], maxLength: 32, seed: 42, validationFraction: 0.1 });
    const lines = fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(header.splits.train.examples);
    // The same builder over the same documents in-process gives the same records.
    const tokenizer = fromTokenizerJSON(fs.readFileSync(wordpiece, 'utf8'));
    const corpus = TokenizedCorpus.open(cache, { shuffle: false, validationFraction: 0.1 });
    const expected = [];
    for await (const example of new NextSentencePrediction().exampleBuilder.build(corpus.documents({ split: 'train' }), { tokenizer, maxLength: 32, rng: new Rng(42) })) expected.push(exampleRecord(example));
    corpus.close();
    expect(lines).toEqual(expected);
    expect(Object.keys(lines[0]).sort()).toEqual(['attention_mask', 'input_ids', 'next_sentence_label', 'special_tokens_mask', 'token_type_ids']);
    expect(lines.some((l) => l.next_sentence_label === 1) && lines.some((l) => l.next_sentence_label === 0)).toBe(true);
    expect(lines.every((l) => l.input_ids[0] === tokenizer.tokenToId('[CLS]') && l.input_ids.length <= 32)).toBe(true);
  });

  it('jsonl with CLM: full blocks with the separator between documents, and no token_type_ids (GPT-2 would embed them)', () => {
    const out = path.join(work, 'jsonl-clm');
    const config = bertConfig(tempDir('jsonl-clm-config'), [{ name: 'clm' }]);
    ok(['corpus', 'export', '--format', 'jsonl', '--token-cache', cache, '-c', config, '-t', wordpiece, '-o', out]);
    const lines = fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(10);
    expect(Object.keys(lines[0]).sort()).toEqual(['attention_mask', 'input_ids', 'special_tokens_mask']);
    expect(lines.every((l) => l.input_ids.length === 32)).toBe(true);
    // The blocks are the cache's train documents, each followed by [SEP], cut every 32 tokens (the remainder dropped).
    const sep = fromTokenizerJSON(fs.readFileSync(wordpiece, 'utf8')).tokenToId('[SEP]')!;
    const corpus = TokenizedCorpus.open(cache, { shuffle: false, validationFraction: 0.1 });
    const stream = Array.from(corpus.indicesOf('train'), (g) => [...corpus.readDocument(g).sentences.flatMap((s) => Array.from(s)), sep]).flat();
    corpus.close();
    expect(lines.flatMap((l) => l.input_ids)).toEqual(stream.slice(0, lines.length * 32));
    expect(stream.length - lines.length * 32).toBeLessThan(32);
  });
});

/** Splits an HF folder's model.safetensors into two shards + model.safetensors.index.json, as save_pretrained does. */
function shard(dir: string): void {
  const file = readSafetensors(path.join(dir, 'model.safetensors'));
  const names = [...file.tensors.keys()];
  const parts = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
  const weightMap: Record<string, string> = {};
  parts.forEach((part, i) => {
    const shardName = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(path.join(dir, shardName), new Map(part.map((n) => [n, file.tensors.get(n)! as SafetensorsInput])));
    for (const n of part) weightMap[n] = shardName;
  });
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  fs.rmSync(path.join(dir, 'model.safetensors'));
}

describe('finetune --from an HF folder trained anywhere', () => {
  it('reads sharded safetensors (and names a missing shard)', () => {
    const hf = path.join(work, 'sharded');
    fs.cpSync(path.join(work, 'export-bert'), hf, { recursive: true });
    shard(hf);
    const dir = tempDir('ft-sharded');
    const result = runBin(['finetune', '-c', sentimentConfig(dir, { name: 'bert', options: {} }), '--from', hf, '-o', path.join(dir, 'run')]);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`note: ${hf} has no pooler (an HF *ForMaskedLM model); it starts from a fresh init, as in HF`);
    const saved = readJson(path.join(dir, 'run', 'checkpoint', 'pretrain_plugins.json'));
    expect(saved.model).toEqual({ name: 'bert', options: expect.objectContaining({ vocabSize: 400, hiddenSize: 32, numHiddenLayers: 2 }) });
    expect(readJson(path.join(dir, 'run', 'checkpoint', 'config.json')).architectures).toEqual(['BertForSequenceClassification']);
    fs.rmSync(path.join(hf, 'model-00002-of-00002.safetensors'));
    const missing = runBin(['finetune', '-c', sentimentConfig(dir, { name: 'bert', options: {} }), '--from', hf, '-o', path.join(dir, 'run2')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('model-00002-of-00002.safetensors: shard listed in');
  });

  it('reads a GPT-2 folder with an untied lm_head (tie_word_embeddings: false)', () => {
    const hf = path.join(work, 'untied');
    fs.cpSync(path.join(work, 'export-gpt'), hf, { recursive: true });
    const file = readSafetensors(path.join(hf, 'model.safetensors'));
    const wte = file.tensors.get('transformer.wte.weight')!;
    const tensors = new Map<string, SafetensorsInput>([...file.tensors].map(([n, t]) => [n, t as SafetensorsInput]));
    tensors.set('lm_head.weight', { dtype: 'F32', shape: wte.shape, data: Float32Array.from(wte.data as Float32Array, (v) => v * 0.5) });
    writeSafetensors(path.join(hf, 'model.safetensors'), tensors);
    writeJson(path.join(hf, 'config.json'), { ...readJson(path.join(hf, 'config.json')), tie_word_embeddings: false });
    const dir = tempDir('ft-untied');
    const result = runBin(['finetune', '-c', sentimentConfig(dir, { name: 'gpt2', options: {} }), '--from', hf, '-o', path.join(dir, 'run')]);
    expect(result.stderr).not.toContain('error:');
    expect(result.status).toBe(0);
    expect(readJson(path.join(dir, 'run', 'checkpoint', 'pretrain_plugins.json')).model.name).toBe('gpt2');
  });

  it('refuses a pickle pytorch_model.bin folder with the command that converts it', () => {
    const hf = tempDir('pickle');
    fs.copyFileSync(path.join(work, 'export-bert', 'config.json'), path.join(hf, 'config.json'));
    fs.copyFileSync(path.join(work, 'export-bert', 'tokenizer.json'), path.join(hf, 'tokenizer.json'));
    fs.writeFileSync(path.join(hf, 'pytorch_model.bin'), Buffer.from('PK\u0003\u0004 truncated'));
    const dir = tempDir('ft-pickle');
    const result = runBin(['finetune', '-c', sentimentConfig(dir, { name: 'bert', options: {} }), '--from', hf, '-o', path.join(dir, 'run')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`error: ${path.join(hf, 'pytorch_model.bin')}: only safetensors weights can be read`);
    expect(result.stderr).toContain('save_pretrained(');
  });
});
