import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, TokenizerPlugin } from '@pretrain/core';
import * as tokenizerPackage from '@pretrain/tokenizer';

export type TokenizerType = 'wordpiece' | 'bpe';

export interface TokenizerTrainingOptions {
  type: TokenizerType;
  vocabSize: number;
  minFrequency?: number;
  lowercase?: boolean;
}

const api = tokenizerPackage as unknown as Record<string, any>;

/** Trains a WordPiece (BERT) or byte-level BPE (GPT-2) tokenizer on streamed texts. */
export async function trainTokenizer(texts: AsyncIterable<string> | Iterable<string>, options: TokenizerTrainingOptions): Promise<TokenizerPlugin> {
  const lines: string[] = [];
  for await (const text of texts as AsyncIterable<string>) lines.push(text);
  if (options.type === 'wordpiece') {
    const train = api.trainWordPiece ?? api.trainWordPieceTokenizer;
    if (!train) throw new PretrainError('@pretrain/tokenizer does not provide a WordPiece trainer in this version');
    return train(lines, { vocabSize: options.vocabSize, minFrequency: options.minFrequency ?? 2, lowercase: options.lowercase ?? true });
  }
  const train = api.trainByteLevelBpe ?? api.trainBpe;
  if (!train) throw new PretrainError('@pretrain/tokenizer does not provide a byte-level BPE trainer in this version');
  return train(lines, { vocabSize: options.vocabSize, minFrequency: options.minFrequency ?? 2 });
}

/** Loads an HF tokenizer.json (a file, or a folder holding one). */
export function loadTokenizerFile(fileOrDir: string): TokenizerPlugin {
  const file = fs.existsSync(fileOrDir) && fs.statSync(fileOrDir).isDirectory() ? path.join(fileOrDir, 'tokenizer.json') : fileOrDir;
  if (!fs.existsSync(file)) throw new PretrainError(`Tokenizer file ${file} does not exist`, { file });
  return tokenizerPackage.Tokenizer.fromFile(file);
}
