import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Registry } from '@pretrain/core';
import { fromBertVocab, fromGPT2Files, fromTokenizerJSON, pretrainPlugins, Tokenizer, WordPiece, BPE, TokenizerJSONError } from './index';
import { hf } from './test-utils/hf';

const fixtures = path.join(__dirname, '../../../fixtures/data/tokenizer');
const bertFile = path.join(fixtures, 'bert-base-uncased/tokenizer.json');
const gpt2File = path.join(fixtures, 'gpt2/tokenizer.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-test-'));
const lines = fs.readFileSync(path.join(fixtures, 'lines.txt'), 'utf8').split('\n').filter(Boolean).slice(0, 400);

describe('tokenizer.json', () => {
  it.each([
    ['bert-base-uncased', bertFile],
    ['gpt2', gpt2File],
  ])('%s: saves exactly what HF saves', (_name, file) => {
    const hfOut = path.join(tmp, `${_name}-hf.json`);
    hf.Tokenizer.fromFile(file).save(hfOut);
    const ours = Tokenizer.fromFile(file).toJSON();
    const theirs = fs.readFileSync(hfOut, 'utf8');
    // Compared as text, reporting only the neighbourhood of the first difference (the files are MBs).
    let at = 0;
    while (at < ours.length && ours[at] === theirs[at]) at++;
    expect(at === ours.length && ours.length === theirs.length ? 'identical' : `differs at ${at}: ours ${ours.slice(at - 80, at + 80)} HF ${theirs.slice(at - 80, at + 80)}`).toBe('identical');
  });

  it('keeps truncation and padding settings in the file, like HF', () => {
    const ours = Tokenizer.fromFile(bertFile).setTruncation({ maxLength: 64, stride: 8, strategy: 'only_second', direction: 'left' }).setPadding({ strategy: 'max_length', maxLength: 64, padToMultipleOf: 8 });
    const theirs = hf.Tokenizer.fromFile(bertFile);
    theirs.setTruncation(64, { stride: 8, strategy: 'OnlySecond', direction: 'left' });
    theirs.setPadding({ maxLength: 64, padToMultipleOf: 8 });
    const hfOut = path.join(tmp, 'settings-hf.json');
    theirs.save(hfOut);
    const saved = JSON.parse(fs.readFileSync(hfOut, 'utf8'));
    expect(JSON.parse(ours.toJSON()).truncation).toEqual(saved.truncation);
    expect(JSON.parse(ours.toJSON()).padding).toEqual(saved.padding);
    expect(fromTokenizerJSON(ours.toJSON()).toJSON()).toBe(ours.toJSON());
  });

  it('saves atomically and loads back the same tokenizer (same hash)', () => {
    const ours = Tokenizer.fromFile(gpt2File);
    const out = path.join(tmp, 'nested', 'gpt2.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    ours.save(out);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['gpt2.json']);
    const back = Tokenizer.fromFile(out);
    expect(back.hash()).toBe(ours.hash());
    expect(back.hash()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails on unknown component types naming the JSON path', () => {
    const json = JSON.parse(fs.readFileSync(bertFile, 'utf8'));
    json.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Precompiled', precompiled_charsmap: '' }] };
    expect(() => fromTokenizerJSON(JSON.stringify(json))).toThrow(/normalizer\.normalizers\[1\]\.type: unknown type "Precompiled"/);
    json.normalizer = null;
    json.model.type = 'Unigram';
    expect(() => fromTokenizerJSON(JSON.stringify(json))).toThrow(TokenizerJSONError);
    expect(() => fromTokenizerJSON(JSON.stringify(json))).toThrow(/model\.type: unknown type "Unigram"/);
    json.model.type = 'WordPiece';
    json.model.vocab['[UNK]'] = 'x';
    expect(() => fromTokenizerJSON(JSON.stringify(json))).toThrow(/model\.vocab\["\[UNK\]"\]/);
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"model": {"type": "WordPiece", "vocab": {}}, "decoder": {"type": "Nope"}}');
    expect(() => Tokenizer.fromFile(bad)).toThrow(/bad\.json: tokenizer\.json decoder\.type: unknown type "Nope"/);
    fs.writeFileSync(bad, '{"model": ');
    expect(() => Tokenizer.fromFile(bad)).toThrow(/bad\.json: .*not valid JSON/);
  });
});

describe('building from vocabulary files', () => {
  it('vocab.txt gives the same tokenizer.json as HF (bert-base-uncased)', () => {
    const json = JSON.parse(fs.readFileSync(bertFile, 'utf8'));
    const vocabTxt = path.join(tmp, 'vocab.txt');
    const tokens = Object.entries(json.model.vocab as Record<string, number>).sort((a, b) => a[1] - b[1]).map(([t]) => t);
    fs.writeFileSync(vocabTxt, tokens.join('\n') + '\n');
    expect(JSON.parse(fromBertVocab(vocabTxt).toJSON())).toEqual(json);
  });

  it('vocab.json + merges.txt encode like gpt2 tokenizer.json', () => {
    const json = JSON.parse(fs.readFileSync(gpt2File, 'utf8'));
    const vocabJson = path.join(tmp, 'vocab.json');
    const mergesTxt = path.join(tmp, 'merges.txt');
    fs.writeFileSync(vocabJson, JSON.stringify(json.model.vocab));
    fs.writeFileSync(mergesTxt, '#version: 0.2\n' + json.model.merges.join('\n') + '\n');
    const built = fromGPT2Files(vocabJson, mergesTxt);
    const loaded = Tokenizer.fromFile(gpt2File);
    expect(built.encodeBatch(lines).map((e) => e.ids)).toEqual(loaded.encodeBatch(lines).map((e) => e.ids));
    expect(built.tokenToId('<|endoftext|>')).toBe(50256);
    fs.writeFileSync(mergesTxt, '#version: 0.2\nĠ t\nbroken-line\n');
    expect(() => fromGPT2Files(vocabJson, mergesTxt)).toThrow(/merges\.txt:3: expected "left right"/);
  });
});

describe('encoding details', () => {
  const bert = Tokenizer.fromFile(bertFile);
  const gpt2 = Tokenizer.fromFile(gpt2File);

  it('reports offsets in UTF-16 units of the JS string', () => {
    const text = 'emoji 😀 then 日本 and café';
    const e = gpt2.encode(text);
    const pieces = e.offsets.map(([s, t]) => text.slice(s, t));
    // Byte-level tokens that split a character both point at the whole character, like HF.
    expect(pieces).toEqual(['em', 'oji', ' 😀', '😀', ' then', ' 日', '日', '日', '本', '本', ' and', ' café']);
    const b = bert.encode(text);
    expect(b.tokens.slice(1, -1).map((t, i) => (t === '[UNK]' ? text.slice(...b.offsets[i + 1]) : t))).toEqual(['em', '##oj', '##i', '😀', 'then', '日', '本', 'and', 'cafe']);
    expect(text.slice(...b.offsets[b.offsets.length - 2])).toBe('café');
  });

  it('special token ids, continuation pieces, vocabulary', () => {
    expect(bert.specialTokenIds()).toEqual({ pad: 0, unk: 100, cls: 101, sep: 102, mask: 103, bos: 101, eos: 102 });
    expect(gpt2.specialTokenIds()).toMatchObject({ bos: 50256, eos: 50256, pad: undefined });
    expect(bert.isContinuation(bert.tokenToId('##ing')!)).toBe(true);
    expect(bert.isContinuation(bert.tokenToId('running')!)).toBe(false);
    expect(gpt2.isContinuation(gpt2.tokenToId('Ġthe')!)).toBe(false);
    expect(gpt2.isContinuation(gpt2.tokenToId('ing')!)).toBe(true);
    expect(bert.getVocabSize()).toBe(30522);
    expect(gpt2.getVocabSize()).toBe(50257);
    expect(bert.idToToken(101)).toBe('[CLS]');
    expect(Array.from(bert.encodeIds('Hello world'))).toEqual(bert.encode('Hello world', null, { addSpecialTokens: false }).ids);
  });

  it('getVocabSize is the largest id + 1 (ids may have gaps); duplicate, fractional and absurd ids are refused', () => {
    const wordLevel = (vocab: Record<string, unknown>, added: unknown[] = []) => fromTokenizerJSON(JSON.stringify({ model: { type: 'WordLevel', vocab, unk_token: '[UNK]' }, added_tokens: added }));
    expect(wordLevel({ '[UNK]': 0, a: 1, b: 7 }).getVocabSize()).toBe(8);
    expect(wordLevel({ '[UNK]': 0, a: 1 }, [{ id: 12, content: '<x>', special: true }]).getVocabSize()).toBe(13);
    expect(() => wordLevel({ '[UNK]': 0, a: 1, b: 1 })).toThrow('tokenizer.json model.vocab["b"]: id 1 is also the id of "a" (each id must name one token)');
    expect(() => wordLevel({ '[UNK]': 0, a: 1.5 })).toThrow('expected a non-negative integer id, got 1.5');
    expect(() => wordLevel({ '[UNK]': 0, a: 1e9 })).toThrow('id 1000000000 is too large (ids must be below 16777216)');
    expect(() => wordLevel({ '[UNK]': 0 }, [{ id: 1e9, content: '<x>' }])).toThrow('added_tokens[0].id: id 1000000000 is too large');
    expect(() => wordLevel({ '[UNK]': 0, a: 1 }, [{ id: -1, content: '<x>' }])).toThrow(TokenizerJSONError);
  });

  it('refuses a Split regex that can backtrack exponentially, keeps the usual ones', () => {
    const withSplit = (regex: string) => JSON.stringify({ model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' }, pre_tokenizer: { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated' } });
    const started = Date.now();
    expect(() => fromTokenizerJSON(withSplit('(a+)+$'))).toThrow(TokenizerJSONError);
    expect(() => fromTokenizerJSON(withSplit('(a+)+$'))).toThrow('tokenizer.json pre_tokenizer.pattern: the pattern "(a+)+$" has nested quantifiers (star height > 1) and can take exponential time');
    expect(() => fromTokenizerJSON(withSplit('(\\w+\\s?)*$'))).toThrow('nested quantifiers');
    expect(() => fromTokenizerJSON(withSplit('('))).toThrow('tokenizer.json pre_tokenizer.pattern: invalid regex');
    expect(Date.now() - started).toBeLessThan(1000);
    const gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    expect(fromTokenizerJSON(withSplit(gpt2Pattern)).encode("it's 42", null, { addSpecialTokens: false }).tokens).toEqual(['[UNK]', '[UNK]', '[UNK]']);
  });

  it('encodeIds ignores truncation and padding (the whole text, no pad ids)', () => {
    const text = 'The quick brown fox jumps over the lazy dog, again and again.';
    const full = bert.encode(text, null, { addSpecialTokens: false }).ids;
    bert.setTruncation({ maxLength: 5 }).setPadding({ strategy: 'max_length', maxLength: 64 });
    try {
      expect(bert.encode(text, null, { addSpecialTokens: false }).ids).toHaveLength(64);
      expect(Array.from(bert.encodeIds(text))).toEqual(full);
    } finally {
      bert.setTruncation(null).setPadding(null);
    }
  });

  it('a word over max_input_chars_per_word becomes [UNK]', () => {
    const e = bert.encode(`short ${'a'.repeat(101)} ${'b'.repeat(100)}`, null, { addSpecialTokens: false });
    expect(e.tokens[0]).toBe('short');
    expect(e.tokens[1]).toBe('[UNK]');
    expect(e.tokens.length).toBeGreaterThan(3);
  });

  it('an unencodable character without an unknown token is a clear error', () => {
    const model = new WordPiece(new Map([['a', 0], ['##b', 1]]), { unkToken: '[UNK]' });
    const t = new Tokenizer({ model });
    expect(t.encode('ab').ids).toEqual([0, 1]);
    expect(() => t.encode('ac')).toThrow(/WordPiece: cannot encode "ac" .*no unknown token/);
    const bpe = new Tokenizer({ model: new BPE(new Map([['a', 0], ['b', 1], ['ab', 2]]), [['a', 'b']]) });
    expect(bpe.encode('abab').ids).toEqual([2, 2]);
    expect(() => bpe.encode('abc')).toThrow(/BPE: cannot encode "abc" \(character "c" is not in the vocabulary\)/);
  });

  it('a stride that does not fit is an error, not a crash', () => {
    const t = Tokenizer.fromFile(bertFile).setTruncation({ maxLength: 8, stride: 6 });
    expect(() => t.encode('one two three four five six seven eight nine ten')).toThrow(/stride \(6\) must be smaller than .*6 tokens/);
    t.setTruncation({ maxLength: 2 });
    expect(() => t.encode('one two', 'three')).toThrow(/max_length 2 leaves no room for the 3 special tokens/);
  });

  it('byte-level decoding keeps a leading U+FEFF, as HF does', () => {
    const text = '\uFEFFHello \uFEFF world';
    const ids = gpt2.encode(text, null, { addSpecialTokens: false }).ids;
    expect(gpt2.decode(ids)).toBe(text);
    expect(gpt2.decode(ids).codePointAt(0)).toBe(0xfeff);
  });

  it('decodes with HF clean-up of tokenization spaces on request', () => {
    const ids = gpt2.encode("Hello , world ! It 's fine .").ids;
    expect(gpt2.decode(ids)).toBe("Hello , world ! It 's fine .");
    expect(gpt2.decode(ids, { cleanUpTokenizationSpaces: true })).toBe("Hello, world! It's fine.");
  });
});

describe('plugins', () => {
  const registry = new Registry();
  for (const p of pretrainPlugins) registry.register(p);

  it('hf loads a tokenizer.json relative to the config directory', async () => {
    const plugin = registry.lookup('tokenizer', 'hf')!;
    const options = plugin.options.parse({ path: 'bert-base-uncased/tokenizer.json' });
    const tok = await plugin.create(options, { baseDir: fixtures, seed: 1 });
    expect(tok.encode('hello world').ids).toEqual([101, 7592, 2088, 102]);
  });

  it('wordpiece and bpe train from files, save, and reload the saved file next time', async () => {
    const corpus = path.join(tmp, 'corpus.txt');
    fs.writeFileSync(corpus, lines.join('\n'));
    for (const name of ['wordpiece', 'bpe']) {
      const plugin = registry.lookup('tokenizer', name)!;
      const options = plugin.options.parse({ files: ['corpus.txt'], vocabSize: 600, save: `${name}.json`, threads: 1 });
      const tok = await plugin.create(options, { baseDir: tmp, seed: 1 });
      expect(tok.getVocabSize()).toBe(600);
      const saved = path.join(tmp, `${name}.json`);
      expect(fs.existsSync(saved)).toBe(true);
      const again = await plugin.create(options, { baseDir: tmp, seed: 1 });
      expect(again.hash()).toBe(tok.hash());
      expect(() => plugin.options.parse({ vocabSize: 10 })).toThrow(/either `path`/);
    }
  });
});
