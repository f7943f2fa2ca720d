/**
 * Standard pipelines: BERT (WordPiece) from `vocab.txt` and GPT-2 (byte-level BPE) from
 * `vocab.json` + `merges.txt`, assembled exactly as HF's converters do.
 */
import * as fs from 'fs';
import { PretrainError } from '@pretrain/core/lite';
import { AddedToken } from './added-vocabulary';
import { ByteLevelDecoder, WordPieceDecoder } from './decoders';
import { BPE, Model, WordPiece } from './models';
import { BertNormalizer } from './normalizers';
import { ByteLevelProcessing, TemplateProcessing } from './post-processors';
import { BertPreTokenizer, ByteLevelPreTokenizer } from './pre-tokenizers';
import { Tokenizer } from './tokenizer';

export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export interface BertPipelineOptions {
  lowercase?: boolean;
  /** null: follow `lowercase` (HF default). */
  stripAccents?: boolean | null;
  handleChineseChars?: boolean;
  specialTokens?: string[];
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

function specialAdded(model: Model, contents: string[]): AddedToken[] {
  return contents
    .filter((content) => model.tokenToId(content) !== undefined)
    .map((content) => ({ id: model.tokenToId(content)!, content, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true }));
}

/** A BERT tokenizer around a WordPiece model (HF's `BertWordPieceTokenizer` layout). */
export function bertTokenizer(model: WordPiece, options: BertPipelineOptions = {}): Tokenizer {
  const cls = options.clsToken ?? '[CLS]';
  const sep = options.sepToken ?? '[SEP]';
  const specials = options.specialTokens ?? BERT_SPECIAL_TOKENS;
  const clsId = model.tokenToId(cls);
  const sepId = model.tokenToId(sep);
  const postProcessor = clsId !== undefined && sepId !== undefined ? TemplateProcessing.fromStrings(`${cls}:0 $A:0 ${sep}:0`, `${cls}:0 $A:0 ${sep}:0 $B:1 ${sep}:1`, [[cls, clsId], [sep, sepId]]) : null;
  return new Tokenizer({
    model,
    normalizer: new BertNormalizer({ lowercase: options.lowercase ?? true, stripAccents: options.stripAccents ?? null, handleChineseChars: options.handleChineseChars ?? true }),
    preTokenizer: new BertPreTokenizer(),
    postProcessor,
    decoder: new WordPieceDecoder(model.prefix, true),
    addedTokens: specialAdded(model, specials),
  });
}

/** Reads a BERT `vocab.txt` (one token per line, id = line number). */
export function readVocabTxt(filePath: string): Map<string, number> {
  const text = readText(filePath);
  const vocab = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((token, id) => {
    if (!vocab.has(token)) vocab.set(token, id);
  });
  return vocab;
}

export function fromBertVocab(vocabTxtPath: string, options: BertPipelineOptions = {}): Tokenizer {
  const vocab = readVocabTxt(vocabTxtPath);
  const unk = options.unkToken ?? '[UNK]';
  const model = new WordPiece(vocab, { unkToken: unk, continuingSubwordPrefix: options.continuingSubwordPrefix ?? '##', maxInputCharsPerWord: options.maxInputCharsPerWord ?? 100 });
  return bertTokenizer(model, options);
}

/** A GPT-2 tokenizer around a byte-level BPE model (HF's `ByteLevelBPETokenizer` layout). */
export function gpt2Tokenizer(model: BPE, options: { addPrefixSpace?: boolean; specialTokens?: string[] } = {}): Tokenizer {
  const specials = options.specialTokens ?? ['<|endoftext|>'];
  return new Tokenizer({
    model,
    preTokenizer: new ByteLevelPreTokenizer(options.addPrefixSpace ?? false, true, true),
    postProcessor: new ByteLevelProcessing(true, false, true),
    decoder: new ByteLevelDecoder(true, true, true),
    addedTokens: specialAdded(model, specials).map((t) => ({ ...t, normalized: true })),
  });
}

/** Reads GPT-2's `vocab.json`/`encoder.json` and `merges.txt`/`vocab.bpe`. */
export function fromGPT2Files(vocabJsonPath: string, mergesPath: string, options: { addPrefixSpace?: boolean; specialTokens?: string[] } = {}): Tokenizer {
  let vocabObj: Record<string, number>;
  try {
    vocabObj = JSON.parse(readText(vocabJsonPath));
  } catch (error) {
    throw new PretrainError(`${vocabJsonPath}: not valid JSON: ${(error as Error).message}`, { file: vocabJsonPath });
  }
  const vocab = new Map(Object.entries(vocabObj));
  const merges: [string, string][] = [];
  readText(mergesPath)
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line === '' || (i === 0 && line.startsWith('#version'))) return;
      const parts = line.split(' ');
      if (parts.length !== 2) throw new PretrainError(`${mergesPath}:${i + 1}: expected "left right", got ${JSON.stringify(line)}`, { file: mergesPath, line: i + 1 });
      merges.push([parts[0], parts[1]]);
    });
  return gpt2Tokenizer(new BPE(vocab, merges, {}), options);
}

function readText(filePath: string): string {
  try {
    return fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new PretrainError(`cannot read ${filePath}: ${(error as Error).message}`, { file: filePath });
  }
}
