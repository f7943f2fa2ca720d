import { PretrainError } from '@pretrain/core/lite';

/** SQuAD v1.1 exact match and F1 with the official evaluation script's answer normalisation. */

// Python's string.punctuation (ASCII only), as the official script removes it.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// Python 3 `\b` is Unicode-aware; JS `\b` is ASCII-only, so spell the boundary out.
const ARTICLES = /(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu;

/** lower → remove punctuation → remove articles → collapse whitespace (the official order). */
export function normalizeAnswer(text: string): string {
  const lower = text.toLowerCase();
  const noPunctuation = Array.from(lower).filter((ch) => !PUNCTUATION.has(ch)).join('');
  const noArticles = noPunctuation.replace(ARTICLES, ' ');
  return noArticles.split(/\s+/).filter(Boolean).join(' ');
}

export function exactMatchScore(prediction: string, groundTruth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(groundTruth) ? 1 : 0;
}

export function f1Score(prediction: string, groundTruth: string): number {
  const predictionTokens = normalizeAnswer(prediction).split(' ').filter(Boolean);
  const truthTokens = normalizeAnswer(groundTruth).split(' ').filter(Boolean);
  const truthCounts = new Map<string, number>();
  for (const token of truthTokens) truthCounts.set(token, (truthCounts.get(token) ?? 0) + 1);
  let same = 0;
  for (const token of predictionTokens) {
    const left = truthCounts.get(token) ?? 0;
    if (left > 0) {
      same++;
      truthCounts.set(token, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predictionTokens.length;
  const recall = same / truthTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

function maxOverGroundTruths(score: (p: string, g: string) => number, prediction: string, groundTruths: string[]): number {
  if (groundTruths.length === 0) throw new PretrainError('squad: an example has no ground-truth answers');
  return Math.max(...groundTruths.map((g) => score(prediction, g)));
}

/** Official SQuAD v1.1 totals, in percent: { exactMatch, f1 }. */
export function squadScores(predictions: string[], groundTruths: string[][]): { exactMatch: number; f1: number } {
  if (predictions.length !== groundTruths.length) throw new PretrainError(`squad: ${predictions.length} predictions but ${groundTruths.length} questions`);
  if (predictions.length === 0) throw new PretrainError('squad: no questions');
  let em = 0;
  let f1 = 0;
  predictions.forEach((prediction, i) => {
    em += maxOverGroundTruths(exactMatchScore, prediction, groundTruths[i]);
    f1 += maxOverGroundTruths(f1Score, prediction, groundTruths[i]);
  });
  return { exactMatch: (100 * em) / predictions.length, f1: (100 * f1) / predictions.length };
}
