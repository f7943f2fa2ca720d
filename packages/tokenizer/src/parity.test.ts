/**
 * Parity with HF's Rust tokenizers (npm `tokenizers`) on a sample of the shared corpora
 * (fixtures/data/tokenizer): ids, tokens, type ids, masks, word/sequence ids, offsets,
 * truncation with overflowing windows and padding. The full run is scripts/parity-full.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Encoding } from '@pretrain/core';
import { fromBertVocab, Tokenizer, type PaddingOptions, type TruncationOptions } from './index';
import { diffEncodings, fromHF, hf, HFTokenizer, wellFormed } from './test-utils/hf';

const fixtures = path.join(__dirname, '../../../fixtures/data/tokenizer');
const lines = fs.readFileSync(path.join(fixtures, 'lines.txt'), 'utf8').split('\n').filter((l) => l.length > 0);
const pairs = fs
  .readFileSync(path.join(fixtures, 'pairs.tsv'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split('\t') as [string, string]);

const EDGE_CASES = [
  '',
  '   ',
  'Héllo wörld 😀 日本語のテキスト x\ud800y \udc00z',
  'İstanbul ﬁne Ωmega ΣΑΣ straße café naïve coöperate',
  'control\u0000chars\u0007and\u200bzero\u00adwidth\ufeffbom \u0085nel\u000bvt',
  "Don't stop—it's 3.14159 “quoted” ‘single’ … (parens) [brackets] {braces}",
  `a${'b'.repeat(120)} short`,
  'tabs\tand\nnewlines\r\nand  multiple   spaces  ',
  '[CLS] special [SEP] tokens [MASK] in <|endoftext|> text',
  '🏳️‍🌈 family 👨‍👩‍👧 flags 🇺🇸 combining e\u0301 a\u0308',
  '\u00a0nbsp\u2003em space\u3000ideographic',
];

interface Case {
  name: string;
  ours: Tokenizer;
  theirs: HFTokenizer;
}

async function bertCasedFromHFApi(vocabPath: string): Promise<HFTokenizer> {
  const model = await hf.WordPiece.fromFile(vocabPath, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 });
  const t = new hf.Tokenizer(model);
  t.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false }));
  t.setPreTokenizer(hf.bertPreTokenizer());
  t.setPostProcessor(hf.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', [['[CLS]', 101], ['[SEP]', 102]]));
  t.setDecoder(hf.wordPieceDecoder('##', true));
  t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  return t;
}

const cases: Case[] = [];

beforeAll(async () => {
  for (const name of ['bert-base-uncased', 'gpt2']) {
    const file = path.join(fixtures, name, 'tokenizer.json');
    cases.push({ name, ours: Tokenizer.fromFile(file), theirs: hf.Tokenizer.fromFile(file) });
  }
  const casedVocab = path.join(fixtures, 'bert-base-cased', 'vocab.txt');
  cases.push({ name: 'bert-base-cased', ours: fromBertVocab(casedVocab, { lowercase: false }), theirs: await bertCasedFromHFApi(casedVocab) });
});

function hfTruncation(theirs: HFTokenizer, t: TruncationOptions | null): void {
  if (!t) return theirs.disableTruncation();
  const strategy = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' }[t.strategy ?? 'longest_first'];
  theirs.setTruncation(t.maxLength, { strategy, stride: t.stride ?? 0, direction: t.direction ?? 'right' });
}

function hfPadding(theirs: HFTokenizer, p: PaddingOptions | null, padId: number, padToken: string): void {
  if (!p) return theirs.disablePadding();
  theirs.setPadding({ maxLength: p.strategy === 'max_length' ? p.maxLength : undefined, direction: p.direction ?? 'right', padToMultipleOf: p.padToMultipleOf, padId, padToken });
}

async function compareBatch(c: Case, inputs: (string | [string, string])[], settings: { truncation?: TruncationOptions | null; padding?: PaddingOptions | null; addSpecialTokens?: boolean } = {}): Promise<string[]> {
  const padToken = c.name === 'gpt2' ? '<|endoftext|>' : '[PAD]';
  const padId = c.ours.tokenToId(padToken)!;
  c.ours.setTruncation(settings.truncation ?? null).setPadding(settings.padding ? { ...settings.padding, padId, padToken } : null);
  hfTruncation(c.theirs, settings.truncation ?? null);
  hfPadding(c.theirs, settings.padding ?? null, padId, padToken);
  const addSpecialTokens = settings.addSpecialTokens ?? true;
  let ours: Encoding[];
  try {
    ours = c.ours.encodeBatch(inputs, { addSpecialTokens });
  } finally {
    c.ours.setTruncation(null).setPadding(null);
  }
  // HF's Node binding batches single texts only; pairs go through encode() (all in flight at once),
  // and batch-longest padding then becomes HF's fixed padding to the batch's longest HF encoding.
  const encodeEach = () => Promise.all(inputs.map((x) => (typeof x === 'string' ? c.theirs.encode(x, null, { addSpecialTokens }) : c.theirs.encode(x[0], x[1], { addSpecialTokens }))));
  let theirsRaw: any[];
  if (inputs.every((x) => typeof x === 'string')) theirsRaw = await c.theirs.encodeBatch(inputs, { addSpecialTokens });
  else if (settings.padding && settings.padding.strategy !== 'max_length') {
    c.theirs.disablePadding();
    const longest = Math.max(...(await encodeEach()).map((e: any) => e.getLength()));
    hfPadding(c.theirs, { ...settings.padding, strategy: 'max_length', maxLength: longest }, padId, padToken);
    theirsRaw = await encodeEach();
  } else theirsRaw = await encodeEach();
  c.ours.setTruncation(null).setPadding(null);
  c.theirs.disableTruncation();
  c.theirs.disablePadding();
  const problems: string[] = [];
  inputs.forEach((input, i) => {
    const texts = typeof input === 'string' ? [input] : input;
    const d = diffEncodings(ours[i], fromHF(theirsRaw[i], texts.map(wellFormed)));
    if (d) problems.push(`${c.name} #${i} ${JSON.stringify(input).slice(0, 120)}: ${d}`);
  });
  return problems.slice(0, 5);
}

describe.each(['bert-base-uncased', 'bert-base-cased', 'gpt2'])('parity with HF tokenizers: %s', (name) => {
  const get = () => cases.find((c) => c.name === name)!;

  it('encodes every sample line identically (ids, tokens, type ids, masks, word ids, offsets)', async () => {
    expect(await compareBatch(get(), lines)).toEqual([]);
  });

  it('handles edge cases identically (lone surrogates, emoji, CJK, controls, long words)', async () => {
    expect(await compareBatch(get(), EDGE_CASES)).toEqual([]);
    expect(await compareBatch(get(), EDGE_CASES, { addSpecialTokens: false })).toEqual([]);
  });

  it.each([32, 128])('truncates and pads pairs at max length %i with overflowing windows', async (maxLength) => {
    const stride = maxLength === 32 ? 4 : 16;
    const settings = { truncation: { maxLength, strategy: 'longest_first' as const, stride }, padding: { strategy: 'max_length' as const, maxLength } };
    expect(await compareBatch(get(), pairs, settings)).toEqual([]);
    const left = { truncation: { maxLength, strategy: 'longest_first' as const, stride, direction: 'left' as const }, padding: { strategy: 'max_length' as const, maxLength, direction: 'left' as const } };
    expect(await compareBatch(get(), pairs.slice(0, 100), left)).toEqual([]);
  });

  it.each(['only_first', 'only_second'] as const)('truncates with %s where the target sequence is long enough', async (strategy) => {
    const maxLength = 48;
    const c = get();
    const feasible = pairs.filter(([a, b]) => {
      const la = c.ours.encode(a, null, { addSpecialTokens: false }).ids.length;
      const lb = c.ours.encode(b, null, { addSpecialTokens: false }).ids.length;
      const special = name === 'gpt2' ? 0 : 3;
      const toRemove = la + lb + special - maxLength;
      const target = strategy === 'only_first' ? la : lb;
      return toRemove <= 0 || target - toRemove > 8;
    });
    expect(feasible.length).toBeGreaterThan(20);
    expect(await compareBatch(c, feasible, { truncation: { maxLength, strategy, stride: 2 }, padding: { strategy: 'max_length', maxLength } })).toEqual([]);
  });

  it('pads a batch to the longest, to a multiple of 8, single texts and pairs mixed', async () => {
    const mixed: (string | [string, string])[] = lines.slice(0, 40).map((l, i) => (i % 2 ? l : ([l, pairs[i][1]] as [string, string])));
    expect(await compareBatch(get(), mixed, { padding: { strategy: 'longest', padToMultipleOf: 8 } })).toEqual([]);
  });

  it('encodeIds gives the ids of encode without special tokens, and HF\'s', async () => {
    const c = get();
    const texts = [...lines, ...EDGE_CASES];
    const theirs: any[] = await c.theirs.encodeBatch(texts, { addSpecialTokens: false });
    const problems: string[] = [];
    texts.forEach((text, i) => {
      const ids = Array.from(c.ours.encodeIds(text));
      const viaEncode = c.ours.encode(text, null, { addSpecialTokens: false }).ids;
      if (JSON.stringify(ids) !== JSON.stringify(viaEncode)) problems.push(`#${i} vs encode: ${JSON.stringify(ids).slice(0, 200)} vs ${JSON.stringify(viaEncode).slice(0, 200)}`);
      if (JSON.stringify(ids) !== JSON.stringify(theirs[i].getIds())) problems.push(`#${i} vs HF: ${JSON.stringify(ids).slice(0, 200)} vs ${JSON.stringify(theirs[i].getIds()).slice(0, 200)}`);
    });
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('decodes with and without special tokens like HF', async () => {
    const c = get();
    const sample = [...lines.slice(0, 300), ...EDGE_CASES];
    const problems: string[] = [];
    for (const text of sample) {
      const ids = c.ours.encode(text).ids;
      for (const skip of [false, true]) {
        const ours = c.ours.decode(ids, { skipSpecialTokens: skip });
        const theirs = await c.theirs.decode(ids, skip);
        if (ours !== theirs) problems.push(`${JSON.stringify(text).slice(0, 80)} skip=${skip}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });
});

describe.each(['bert-base-uncased', 'gpt2'])('encodeIds with added tokens: %s', (name) => {
  it('encodeIds matches HF with added tokens (normalized and not) inside the text', async () => {
    const file = path.join(fixtures, name, 'tokenizer.json');
    const ours = Tokenizer.fromFile(file);
    const theirs = hf.Tokenizer.fromFile(file);
    ours.addTokens(['Pemberley', 'Mr. Darcy']);
    theirs.addTokens(['Pemberley', 'Mr. Darcy']);
    ours.addTokens(['<LIT>'], { special: true });
    theirs.addSpecialTokens(['<LIT>']);
    const texts = ['At Pemberley, Mr. Darcy said <LIT> “no”—twice.', '<LIT>pemberley MR. DARCY<LIT>', ...lines.slice(0, 200).map((l, i) => (i % 3 ? `${l} Pemberley` : `<LIT> ${l}`))];
    const theirsIds = (await theirs.encodeBatch(texts, { addSpecialTokens: false })).map((e: any) => e.getIds());
    expect(texts.map((t) => Array.from(ours.encodeIds(t)))).toEqual(theirsIds);
    expect(texts.map((t) => ours.encode(t, null, { addSpecialTokens: false }).ids)).toEqual(theirsIds);
  });
});
