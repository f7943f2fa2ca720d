/**
 * Model inputs for the tasks: one text or a pair truncated longest-first (HF's default for pairs),
 * and question-answering windows with a stride that together cover the whole context.
 */
import { Encoding, Example, PretrainError, TokenizerPlugin } from '@pretrain/core';

/** Indices of the kept tokens of an encoding after removing `over` tokens longest-first from its sequences. */
function longestFirstKeep(encoding: Encoding, maxLength: number): number[] {
  const n = encoding.ids.length;
  const first: number[] = [];
  const second: number[] = [];
  encoding.sequenceIds.forEach((s, i) => {
    if (s === 0) first.push(i);
    else if (s === 1) second.push(i);
  });
  let over = n - maxLength;
  const special = n - first.length - second.length;
  if (special > maxLength) throw new PretrainError(`trainer.maxLength ${maxLength} leaves no room for the ${special} special tokens`, { path: 'trainer.maxLength' });
  const removed = new Set<number>();
  while (over > 0) {
    const from = first.length >= second.length ? first : second;
    removed.add(from.pop()!);
    over--;
  }
  return Array.from({ length: n }, (_, i) => i).filter((i) => !removed.has(i));
}

/** Selects tokens of an encoding (same fields, no overflow). */
function pick(encoding: Encoding, indices: number[]): Encoding {
  const at = <T>(values: T[]) => indices.map((i) => values[i]);
  return {
    ids: at(encoding.ids),
    tokens: at(encoding.tokens),
    typeIds: at(encoding.typeIds),
    attentionMask: at(encoding.attentionMask),
    specialTokensMask: at(encoding.specialTokensMask),
    wordIds: at(encoding.wordIds),
    sequenceIds: at(encoding.sequenceIds),
    offsets: at(encoding.offsets),
    overflowing: [],
  };
}

/**
 * `[CLS] text [SEP]` or `[CLS] text [SEP] pair [SEP]` (the tokenizer's own template), cut to maxLength
 * by removing tokens from the end of the longer sequence first; special tokens are kept.
 */
export function encodeText(tokenizer: TokenizerPlugin, text: string, pair: string | undefined, maxLength: number): Example {
  let encoding = tokenizer.encode(text, pair ?? null, { addSpecialTokens: true });
  if (encoding.ids.length > maxLength) encoding = pick(encoding, longestFirstKeep(encoding, maxLength));
  return { inputIds: Int32Array.from(encoding.ids), tokenTypeIds: Int32Array.from(encoding.typeIds) };
}

/**
 * The windows of a (question, context) pair as HF transformers' QA preprocessing makes them
 * (truncation "only_second" with a stride): the question and special tokens in every window, the
 * context cut into pieces of what is left, consecutive pieces sharing `stride` tokens, the last
 * piece ending at the context's end. No window is dropped. The first window carries the others
 * in `overflowing` (the shape heads' qaFeatures takes).
 */
export function qaWindows(tokenizer: TokenizerPlugin, question: string, context: string, maxLength: number, stride: number): Encoding {
  const whole = tokenizer.encode(question, context, { addSpecialTokens: true });
  const contextIndices: number[] = [];
  whole.sequenceIds.forEach((s, i) => s === 1 && contextIndices.push(i));
  if (contextIndices.length === 0) return pick(whole, longestFirstKeep(whole, maxLength));
  const firstContext = contextIndices[0];
  const lastContext = contextIndices[contextIndices.length - 1];
  const prefix = Array.from({ length: firstContext }, (_, i) => i);
  const suffix = Array.from({ length: whole.ids.length - lastContext - 1 }, (_, i) => lastContext + 1 + i);
  const room = maxLength - prefix.length - suffix.length;
  if (room <= stride) {
    throw new PretrainError(
      `a question of ${prefix.length + suffix.length} tokens (with special tokens) leaves ${room} context tokens per window at trainer.maxLength ${maxLength}, not more than data.stride ${stride}: raise trainer.maxLength or lower data.stride ("${question.slice(0, 60)}")`,
      { path: 'data.stride' },
    );
  }
  const windows: Encoding[] = [];
  for (let start = 0; ; start += room - stride) {
    const end = Math.min(start + room, contextIndices.length);
    windows.push(pick(whole, [...prefix, ...contextIndices.slice(start, end), ...suffix]));
    if (end >= contextIndices.length) break;
  }
  const [first, ...rest] = windows;
  first.overflowing = rest;
  return first;
}

/** Default QA stride: HF's 128 when the windows are long, a quarter of maxLength when they are short. */
export function defaultStride(maxLength: number): number {
  return Math.min(128, Math.floor(maxLength / 4));
}
