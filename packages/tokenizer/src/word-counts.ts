/**
 * Word counting for the trainers: normalize + pre-tokenize every input sequence and count the
 * resulting words. Kept free of @pretrain/core so counting workers stay light.
 */
import { BYTE_TO_CHAR } from './byte-level';
import { JSONObject } from './json-path';
import { identity } from './normalized';
import { Normalizer, normalizerFromJSON } from './normalizers';
import { PreTokenizer, preTokenizerFromJSON } from './pre-tokenizers';
import { toWellFormed } from './unicode';

export interface CountingPipeline {
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
}

export interface CountingPipelineJSON {
  normalizer: JSONObject | null;
  preTokenizer: JSONObject | null;
}

export function pipelineFromJSON(json: CountingPipelineJSON): CountingPipeline {
  return {
    normalizer: json.normalizer ? normalizerFromJSON(json.normalizer, 'normalizer') : null,
    preTokenizer: json.preTokenizer ? preTokenizerFromJSON(json.preTokenizer, 'pre_tokenizer') : null,
  };
}

/** Adds the words of `texts` to `counts` (raw split strings; see `finishCounts`). */
export function countWordsInto(counts: Map<string, number>, texts: string[], pipeline: CountingPipeline): void {
  const splits: number[] = [];
  const { normalizer, preTokenizer } = pipeline;
  for (const raw of texts) {
    let text = normalizer ? normalizer.normalize(identity(toWellFormed(raw))).text : toWellFormed(raw);
    if (preTokenizer?.addPrefixSpace && text.length > 0 && text.charCodeAt(0) !== 32) text = ` ${text}`;
    splits.length = 0;
    if (preTokenizer) preTokenizer.split(text, 0, text.length, splits);
    else if (text.length > 0) splits.push(0, text.length);
    for (let k = 0; k < splits.length; k += 2) {
      if (splits[k + 1] <= splits[k]) continue;
      const word = text.slice(splits[k], splits[k + 1]);
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
}

/** Maps raw words to the model's alphabet (GPT-2 byte characters for byte-level pipelines). */
export function finishCounts(counts: Map<string, number>, pipeline: CountingPipeline): Map<string, number> {
  if (!pipeline.preTokenizer?.byteLevel) return counts;
  const out = new Map<string, number>();
  for (const [word, count] of counts) {
    const chars = byteLevelChars(word);
    out.set(chars, (out.get(chars) ?? 0) + count);
  }
  return out;
}

function byteLevelChars(word: string): string {
  let chars = '';
  for (const b of Buffer.from(word, 'utf8')) chars += BYTE_TO_CHAR[b];
  return chars;
}

export function mergeCounts(into: Map<string, number>, from: Iterable<[string, number]>): void {
  for (const [word, count] of from) into.set(word, (into.get(word) ?? 0) + count);
}
