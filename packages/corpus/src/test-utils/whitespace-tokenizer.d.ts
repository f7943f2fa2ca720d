import type { TokenizerPlugin } from '@pretrain/core';

export declare class WhitespaceTestTokenizer implements TokenizerPlugin {
  constructor(config?: { vocab?: Record<string, number>; lowercase?: boolean; hashBuckets?: number });
  encodeCalls: number;
  encode: TokenizerPlugin['encode'];
  encodeBatch: TokenizerPlugin['encodeBatch'];
  decode: TokenizerPlugin['decode'];
  tokenToId: TokenizerPlugin['tokenToId'];
  idToToken: TokenizerPlugin['idToToken'];
  getVocabSize: TokenizerPlugin['getVocabSize'];
  specialTokenIds: TokenizerPlugin['specialTokenIds'];
  isContinuation: TokenizerPlugin['isContinuation'];
  toJSON(): string;
  hash(): string;
}
export declare class WhitespaceIdsTestTokenizer extends WhitespaceTestTokenizer {
  encodeIds(text: string): Int32Array;
}
export declare function fromTokenizerJSON(json: string): WhitespaceTestTokenizer;
export declare function idsTokenizerFromJSON(json: string): WhitespaceIdsTestTokenizer;
