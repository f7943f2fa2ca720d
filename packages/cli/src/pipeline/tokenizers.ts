import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, TokenizerPlugin } from '@pretrain/core';
import { Tokenizer, trainByteLevelBPE, trainWordPiece } from '@pretrain/tokenizer';

export type TokenizerType = 'wordpiece' | 'bpe';

export interface TokenizerTrainingOptions {
  type: TokenizerType;
  vocabSize: number;
  minFrequency?: number;
}

/** Trains a WordPiece (BERT, lowercased) or byte-level BPE (GPT-2) tokenizer on streamed texts. */
export async function trainTokenizer(texts: AsyncIterable<string> | Iterable<string>, options: TokenizerTrainingOptions): Promise<Tokenizer> {
  const settings = { vocabSize: options.vocabSize, minFrequency: options.minFrequency ?? 2 };
  return options.type === 'wordpiece' ? trainWordPiece(texts, settings) : trainByteLevelBPE(texts, settings);
}

/** Loads an HF tokenizer.json (a file, or a folder holding one). */
export function loadTokenizerFile(fileOrDir: string): TokenizerPlugin {
  const file = fs.existsSync(fileOrDir) && fs.statSync(fileOrDir).isDirectory() ? path.join(fileOrDir, 'tokenizer.json') : fileOrDir;
  if (!fs.existsSync(file)) throw new PretrainError(`Tokenizer file ${file} does not exist`, { file });
  return Tokenizer.fromFile(file);
}
