// Test double: a small WordPiece-like tokenizer built from a text sample. Frequent words are one
// token; other words split into 3-character pieces, the later ones marked `##` like WordPiece.
// The plugin packages may not depend on @pretrain/tokenizer, so tests use this instead.
import type { Encoding, SpecialTokenIds, TokenizerPlugin } from '../contract';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORD = /[a-z0-9]+|[^a-z0-9\s]/g;

export class PieceTokenizer implements TokenizerPlugin {
  private readonly vocab = new Map<string, number>();
  private readonly tokens: string[] = [];

  constructor(sample: string, wholeWords = 1500) {
    for (const token of SPECIALS) this.addToken(token);
    const counts = new Map<string, number>();
    for (const word of words(sample)) counts.set(word, (counts.get(word) ?? 0) + 1);
    const frequent = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, wholeWords);
    for (const [word] of frequent) this.addToken(word);
    for (const word of [...counts.keys()].sort()) if (!this.vocab.has(word)) for (const piece of pieces(word)) this.addToken(piece);
  }

  private addToken(token: string): void {
    if (this.vocab.has(token)) return;
    this.vocab.set(token, this.tokens.length);
    this.tokens.push(token);
  }

  /** Ids of a text without special tokens. */
  ids(text: string): Int32Array {
    return Int32Array.from(this.encode(text, null, { addSpecialTokens: false }).ids);
  }

  encode(text: string, pair?: string | null, options: { addSpecialTokens?: boolean } = {}): Encoding {
    const addSpecial = options.addSpecialTokens !== false;
    const tokens: string[] = [];
    const wordIds: (number | null)[] = [];
    const sequenceIds: (number | null)[] = [];
    const typeIds: number[] = [];
    const special: number[] = [];
    const push = (token: string, word: number | null, sequence: number | null, isSpecial: boolean) => {
      tokens.push(token);
      wordIds.push(word);
      sequenceIds.push(sequence);
      typeIds.push(sequence === 1 || (isSpecial && sequenceIds.includes(1)) ? 1 : 0);
      special.push(isSpecial ? 1 : 0);
    };
    if (addSpecial) push('[CLS]', null, null, true);
    [text, pair].forEach((part, sequence) => {
      if (part === null || part === undefined) return;
      words(part).forEach((word, w) => {
        for (const piece of this.vocab.has(word) ? [word] : pieces(word)) push(this.vocab.has(piece) ? piece : '[UNK]', w, sequence, false);
      });
      if (addSpecial) push('[SEP]', null, null, true);
    });
    const ids = tokens.map((t) => this.vocab.get(t)!);
    return { ids, tokens, typeIds, attentionMask: ids.map(() => 1), specialTokensMask: special, wordIds, sequenceIds, offsets: ids.map(() => [0, 0]), overflowing: [] };
  }

  encodeBatch(inputs: (string | [string, string])[]): Encoding[] {
    return inputs.map((input) => (typeof input === 'string' ? this.encode(input) : this.encode(input[0], input[1])));
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => this.tokens[id]).join(' ').replace(/ ##/g, '');
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  getVocabSize(): number {
    return this.tokens.length;
  }

  specialTokenIds(): SpecialTokenIds {
    return { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };
  }

  isContinuation(id: number): boolean {
    return this.tokens[id]?.startsWith('##') ?? false;
  }

  toJSON(): string {
    return JSON.stringify({ vocab: this.tokens });
  }

  hash(): string {
    return `piece-${this.tokens.length}`;
  }
}

function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

function pieces(word: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i += 3) out.push(i === 0 ? word.slice(0, 3) : `##${word.slice(i, i + 3)}`);
  return out;
}
