import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PretrainError } from '@pretrain/core/lite';
import { byteLevelAlphabet, fromBertVocab, loadTokenizer, Tokenizer } from './index';
import { diffEncodings, fromHF, hf } from './test-utils/hf';

const fixtures = path.join(__dirname, '../../../fixtures/data/tokenizer');
const bertJson = path.join(fixtures, 'bert-base-uncased/tokenizer.json');
const casedVocab = path.join(fixtures, 'bert-base-cased/vocab.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-loader-test-'));
const texts = ['Hello there, the winner is in the rain.', 'Then the other one ran: 日本 café 😀', 'the end<|endoftext|>another start'];

/** A fresh folder holding the given files (name → contents, or a file to copy). */
function folderWith(name: string, files: Record<string, string | { copy: string }>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, contents] of Object.entries(files)) {
    if (typeof contents === 'string') fs.writeFileSync(path.join(dir, file), contents);
    else fs.copyFileSync(contents.copy, path.join(dir, file));
  }
  return dir;
}

/** A small GPT-2 style pair: every byte-level character, a few merges, and the end-of-text token. */
function smallGPT2Files(): { vocab: Record<string, number>; merges: string[] } {
  const merges = ['Ġ t', 'h e', 'Ġt he', 'i n', 'Ġ w', 'e r', 'Ġ r', 'a in', 'Ġr ain', 'o n', 'Ġ o', 'Ġo n', 'Ġon e', 'e n'];
  const tokens = [...byteLevelAlphabet(), ...merges.map((m) => m.replace(' ', '')), '<|endoftext|>'];
  return { vocab: Object.fromEntries(tokens.map((token, id) => [token, id])), merges };
}

describe('loadTokenizer', () => {
  it('loads a tokenizer.json file', () => {
    expect(loadTokenizer(bertJson).toJSON()).toBe(Tokenizer.fromFile(bertJson).toJSON());
  });

  it('loads a BERT vocab.txt file', () => {
    expect(loadTokenizer(casedVocab).toJSON()).toBe(fromBertVocab(casedVocab).toJSON());
  });

  it('loads a folder: tokenizer.json first, else vocab.txt', () => {
    const both = folderWith('both', { 'tokenizer.json': { copy: bertJson }, 'vocab.txt': { copy: casedVocab } });
    expect(loadTokenizer(both).toJSON()).toBe(Tokenizer.fromFile(bertJson).toJSON());
    const vocabOnly = folderWith('vocab-only', { 'vocab.txt': { copy: casedVocab } });
    expect(loadTokenizer(vocabOnly).toJSON()).toBe(fromBertVocab(casedVocab).toJSON());
  });

  it("reads a vocab.txt folder's tokenizer_config.json: a cased model stays cased", () => {
    const cased = folderWith('cased', { 'vocab.txt': { copy: casedVocab }, 'tokenizer_config.json': JSON.stringify({ do_lower_case: false, model_max_length: 512 }) });
    expect(loadTokenizer(cased).toJSON()).toBe(fromBertVocab(casedVocab, { lowercase: false }).toJSON());
    expect(loadTokenizer(cased).encode('Hello Paris').tokens).toEqual(['[CLS]', 'Hello', 'Paris', '[SEP]']);
    const broken = folderWith('broken-config', { 'vocab.txt': { copy: casedVocab }, 'tokenizer_config.json': '{ do_lower_case' });
    expect(() => loadTokenizer(broken)).toThrow(`${path.join(broken, 'tokenizer_config.json')}: not valid JSON`);
  });

  it('loads a folder holding vocab.json + merges.txt and encodes like HF GPT-2 built from the same files', async () => {
    const { vocab, merges } = smallGPT2Files();
    const dir = folderWith('gpt2', { 'vocab.json': JSON.stringify(vocab), 'merges.txt': ['#version: 0.2', ...merges].join('\n') + '\n' });
    // HF's GPT2TokenizerFast from these files (transformers' GPT2Converter): byte-level BPE, no prefix space, untrimmed offsets.
    const theirs = new hf.Tokenizer(await hf.BPE.fromFile(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt')));
    theirs.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
    theirs.setPostProcessor(hf.byteLevelProcessing(false));
    theirs.addSpecialTokens(['<|endoftext|>']);
    const ours = loadTokenizer(dir);
    for (const text of texts) {
      const expected = fromHF(await theirs.encode(text), [text]);
      expect(diffEncodings(ours.encode(text), expected, ['ids', 'tokens', 'offsets', 'specialTokensMask'])).toBeNull();
    }
    // The merges were applied, not just the byte alphabet.
    expect(ours.encode(texts[0]).tokens).toEqual(expect.arrayContaining(['Ġthe', 'Ġrain']));
  });

  it('names the path and what it looked for when there is no tokenizer', () => {
    const missing = path.join(tmp, 'no-tokenizer.json');
    expect(() => loadTokenizer(missing)).toThrow(PretrainError);
    expect(() => loadTokenizer(missing)).toThrow(`tokenizer ${missing} does not exist (expected a tokenizer.json or vocab.txt file, or a folder holding tokenizer.json, vocab.txt, or vocab.json + merges.txt)`);
    const { vocab } = smallGPT2Files();
    const halfGPT2 = folderWith('half-gpt2', { 'vocab.json': JSON.stringify(vocab) });
    expect(() => loadTokenizer(halfGPT2)).toThrow(`no tokenizer in folder ${halfGPT2}: looked for tokenizer.json, vocab.txt, or vocab.json + merges.txt`);
  });
});
