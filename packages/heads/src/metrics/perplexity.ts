import { PretrainError } from '@pretrain/core/lite';

/** Perplexity from a mean per-token negative log-likelihood (natural log), as HF's run_clm/run_mlm report it. */
export function perplexity(meanLoss: number): number {
  return Math.exp(meanLoss);
}

/** Perplexity from a summed NLL over `tokens` predicted tokens (token-weighted, not batch-weighted). */
export function perplexityFromTotals(totalNll: number, tokens: number): number {
  if (!(tokens > 0)) throw new PretrainError('perplexity: no predicted tokens');
  return Math.exp(totalNll / tokens);
}
