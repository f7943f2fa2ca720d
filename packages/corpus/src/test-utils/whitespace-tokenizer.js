// A tiny TokenizerPlugin test double in plain CommonJS, so worker threads can load it with
// `require` (they cannot run TypeScript). Words split on whitespace; ids come from the vocab or,
// for unknown words, from a hash — deterministic, so two runs give identical ids.
'use strict';
const crypto = require('crypto');

class WhitespaceTestTokenizer {
  constructor(config = {}) {
    this.config = { type: 'whitespace-test', vocab: config.vocab || {}, lowercase: config.lowercase !== false, hashBuckets: config.hashBuckets || 5000 };
    this.encodeCalls = 0;
  }
  words(text) {
    const t = this.config.lowercase ? text.toLowerCase() : text;
    return t.split(/\s+/).filter((w) => w.length > 0);
  }
  idOf(word) {
    const known = this.config.vocab[word];
    if (known !== undefined) return known;
    let h = 2166136261;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
    return 10 + ((h >>> 0) % this.config.hashBuckets);
  }
  encode(text) {
    this.encodeCalls++;
    const tokens = this.words(text);
    const ids = tokens.map((w) => this.idOf(w));
    const n = ids.length;
    return {
      ids, tokens, typeIds: new Array(n).fill(0), attentionMask: new Array(n).fill(1), specialTokensMask: new Array(n).fill(0),
      wordIds: tokens.map((_, i) => i), sequenceIds: new Array(n).fill(0), offsets: tokens.map(() => [0, 0]), overflowing: [],
    };
  }
  encodeBatch(inputs) {
    return inputs.map((input) => this.encode(Array.isArray(input) ? input.join(' ') : input));
  }
  decode(ids) {
    return Array.from(ids).join(' ');
  }
  tokenToId(token) {
    return this.config.vocab[token];
  }
  idToToken(id) {
    return Object.keys(this.config.vocab).find((k) => this.config.vocab[k] === id);
  }
  getVocabSize() {
    return 10 + this.config.hashBuckets;
  }
  specialTokenIds() {
    return { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };
  }
  isContinuation() {
    return false;
  }
  toJSON() {
    return JSON.stringify(this.config);
  }
  hash() {
    return crypto.createHash('sha256').update(this.toJSON()).digest('hex').slice(0, 16);
  }
}

/** The same tokenizer with the contract's optional encodeIds; encodeBatch throws, so a test sees which one ran. */
class WhitespaceIdsTestTokenizer extends WhitespaceTestTokenizer {
  encodeIds(text) {
    this.encodeCalls++;
    return Int32Array.from(this.words(text), (w) => this.idOf(w));
  }
  encodeBatch() {
    throw new Error('encodeBatch called although the tokenizer has encodeIds');
  }
}

function fromTokenizerJSON(json) {
  return new WhitespaceTestTokenizer(JSON.parse(json));
}

function idsTokenizerFromJSON(json) {
  return new WhitespaceIdsTestTokenizer(JSON.parse(json));
}

module.exports = { WhitespaceTestTokenizer, WhitespaceIdsTestTokenizer, fromTokenizerJSON, idsTokenizerFromJSON };
