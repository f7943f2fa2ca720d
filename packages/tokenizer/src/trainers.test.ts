/**
 * Training parity with HF's Rust trainers (npm `tokenizers`). HF's Node binding trains only with
 * its defaults (30,000 tokens, no special tokens, no initial alphabet), so we compare on those.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tokenizer, trainByteLevelBPE, trainWordPiece } from './index';
import { hf } from './test-utils/hf';

const sample = path.join(__dirname, '../../../fixtures/data/tokenizer/train-sample.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-train-'));

function hfTrained(model: any, setup: (t: any) => void): any {
  const t = new hf.Tokenizer(model);
  setup(t);
  t.train([sample]);
  const file = path.join(tmp, `hf-${Math.random()}.json`);
  t.save(file);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe('byte-level BPE trainer', () => {
  it("gives exactly HF's vocab and merges for HF's default settings", async () => {
    const theirs = hfTrained(hf.BPE.empty(), (t) => t.setPreTokenizer(hf.byteLevelPreTokenizer(false, true)));
    const ours = JSON.parse((await trainByteLevelBPE([sample], { vocabSize: 30000, specialTokens: [], initialAlphabet: [], threads: 2 })).toJSON());
    expect(Object.keys(ours.model.vocab).length).toBeGreaterThan(5000);
    expect(ours.model.vocab).toEqual(theirs.model.vocab);
    expect(ours.model.merges).toEqual(theirs.model.merges);
  });

  it('produces a working GPT-2 style tokenizer with the byte alphabet and <|endoftext|>', async () => {
    const lines = fs.readFileSync(sample, 'utf8').split('\n').slice(0, 2000);
    const tok = await trainByteLevelBPE(lines.values(), { vocabSize: 1000, threads: 1 });
    expect(tok.getVocabSize()).toBe(1000);
    expect(tok.tokenToId('<|endoftext|>')).toBe(0);
    const text = 'Unseen: 日本語 😀 naïve';
    expect(tok.decode(tok.encode(text).ids)).toBe(text);
  });
});

describe('WordPiece trainer', () => {
  it("overlaps HF's vocabulary by at least 99% for HF's default settings", async () => {
    const theirs = hfTrained(hf.WordPiece.empty(), (t) => {
      t.setNormalizer(hf.bertNormalizer({ lowercase: true }));
      t.setPreTokenizer(hf.bertPreTokenizer());
    });
    const ours = await trainWordPiece([sample], { vocabSize: 30000, specialTokens: [], threads: 2 });
    const theirVocab = Object.keys(theirs.model.vocab);
    const ourVocab = new Set(ours.getVocab().keys());
    const overlap = theirVocab.filter((t) => ourVocab.has(t)).length / theirVocab.length;
    expect(theirVocab.length).toBeGreaterThan(5000);
    expect(overlap).toBeGreaterThanOrEqual(0.99);
    expect(Math.abs(ourVocab.size - theirVocab.length)).toBeLessThanOrEqual(theirVocab.length * 0.01);
  });

  it('is byte-identical across runs, thread counts and input forms (files vs. streamed lines)', async () => {
    const a = await trainWordPiece([sample], { vocabSize: 4000, threads: 2 });
    const b = await trainWordPiece([sample], { vocabSize: 4000, threads: 1 });
    async function* streamed() {
      for (const line of fs.readFileSync(sample, 'utf8').split(/(?<=\n)/)) yield line;
    }
    const c = await trainWordPiece(streamed(), { vocabSize: 4000, threads: 2 });
    expect(a.toJSON()).toBe(b.toJSON());
    expect(a.toJSON()).toBe(c.toJSON());
    expect(a.getVocabSize()).toBe(4000);
    expect(a.specialTokenIds()).toEqual({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4, bos: 2, eos: 3 });
    const file = path.join(tmp, 'wp.json');
    a.save(file);
    expect(Tokenizer.fromFile(file).toJSON()).toBe(a.toJSON());
    const enc = a.encode('It is a truth universally acknowledged', 'that a single man');
    expect(enc.tokens[0]).toBe('[CLS]');
    expect(enc.typeIds[enc.typeIds.length - 1]).toBe(1);
  });

  it('names the missing file', async () => {
    await expect(trainWordPiece([path.join(tmp, 'missing.txt')], { threads: 1 })).rejects.toThrow(/missing\.txt/);
  });
});
