/**
 * Added tokens (special tokens and user additions). They are matched in the text before the
 * model runs: `normalized: false` tokens in the raw text, `normalized: true` ones in the
 * normalized text, leftmost-longest like HF.
 */
import { checkTokenId, expectObject, JSONObject, optBool, TokenizerJSONError } from './json-path';
import { WORD, hasFlag } from './unicode';

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export function addedTokenToJSON(t: AddedToken): JSONObject {
  return { id: t.id, content: t.content, single_word: t.singleWord, lstrip: t.lstrip, rstrip: t.rstrip, normalized: t.normalized, special: t.special };
}

export function addedTokenFromJSON(value: unknown, jsonPath: string): AddedToken {
  const obj = expectObject(value, jsonPath);
  checkTokenId(obj.id, `${jsonPath}.id`);
  if (typeof obj.content !== 'string' || obj.content.length === 0) throw new TokenizerJSONError(`${jsonPath}.content`, 'expected a non-empty string');
  const special = optBool(obj, 'special', jsonPath, false);
  return {
    id: obj.id,
    content: obj.content,
    singleWord: optBool(obj, 'single_word', jsonPath, false),
    lstrip: optBool(obj, 'lstrip', jsonPath, false),
    rstrip: optBool(obj, 'rstrip', jsonPath, false),
    normalized: optBool(obj, 'normalized', jsonPath, !special),
    special,
  };
}

/** A match of an added token: [start, end) and the token. */
export interface AddedMatch {
  start: number;
  end: number;
  token: AddedToken;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class AddedVocabulary {
  readonly tokens: AddedToken[];
  private readonly byContent = new Map<string, AddedToken>();
  /** normalized: true tokens by their normalized content (what the normalized text contains). */
  private readonly byNormalizedContent = new Map<string, AddedToken>();
  private readonly byId = new Map<number, AddedToken>();
  private readonly rawPattern: RegExp | null;
  private readonly normalizedPattern: RegExp | null;
  /** First characters of the tokens of each pattern: a text without any of them has no match (fast check). */
  private readonly rawFirstChars: string[];
  private readonly normalizedFirstChars: string[];

  /** `normalize`: the tokenizer's normalizer; like HF, `normalized: true` tokens are matched by their normalized content. */
  constructor(tokens: AddedToken[], normalize: (text: string) => string = (text) => text) {
    this.tokens = [...tokens].sort((a, b) => a.id - b.id);
    for (const t of this.tokens) {
      this.byContent.set(t.content, t);
      this.byId.set(t.id, t);
      if (t.normalized) {
        const content = normalize(t.content);
        if (content.length > 0 && !this.byNormalizedContent.has(content)) this.byNormalizedContent.set(content, t);
      }
    }
    const normalizedContents = [...this.byNormalizedContent.keys()];
    this.rawPattern = buildPattern(this.tokens.filter((t) => !t.normalized).map((t) => t.content));
    this.normalizedPattern = buildPattern(normalizedContents);
    this.rawFirstChars = firstChars(this.tokens.filter((t) => !t.normalized).map((t) => t.content));
    this.normalizedFirstChars = firstChars(normalizedContents);
  }

  get(content: string): AddedToken | undefined {
    return this.byContent.get(content);
  }

  getById(id: number): AddedToken | undefined {
    return this.byId.get(id);
  }

  /** Added-token matches in `text`: raw (normalized: false) or normalized ones. */
  find(text: string, normalized: boolean): AddedMatch[] {
    const pattern = normalized ? this.normalizedPattern : this.rawPattern;
    if (!pattern || !(normalized ? this.normalizedFirstChars : this.rawFirstChars).some((c) => text.includes(c))) return [];
    const matches: AddedMatch[] = [];
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
      const token = (normalized ? this.byNormalizedContent : this.byContent).get(m[0])!;
      let start = m.index;
      let end = start + m[0].length;
      if (token.singleWord && !isWordBoundary(text, start, end)) {
        pattern.lastIndex = m.index + 1;
        continue;
      }
      if (token.lstrip) while (start > 0 && /\s/u.test(text[start - 1]) && (matches.length === 0 || start > matches[matches.length - 1].end)) start--;
      if (token.rstrip) while (end < text.length && /\s/u.test(text[end])) end++;
      matches.push({ start, end, token });
      pattern.lastIndex = end;
    }
    return matches;
  }
}

function isWordBoundary(text: string, start: number, end: number): boolean {
  const before = start > 0 && hasFlag(text.codePointAt(start - 1)!, WORD);
  const after = end < text.length && hasFlag(text.codePointAt(end)!, WORD);
  return !before && !after;
}

function firstChars(contents: string[]): string[] {
  return [...new Set(contents.map((c) => c[0]))];
}

/** Longest first, so the leftmost match is also the longest. */
function buildPattern(contents: string[]): RegExp | null {
  if (contents.length === 0) return null;
  const sorted = [...contents].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegex).join('|'), 'g');
}
