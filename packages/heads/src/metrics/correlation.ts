import { PretrainError } from '@pretrain/core/lite';

/** Correlation metrics (scipy.stats semantics) computed in float64. */
type Values = ArrayLike<number>;

export function pearson(x: Values, y: Values): number {
  if (x.length !== y.length) throw new PretrainError(`pearson: ${x.length} predictions but ${y.length} references`);
  if (x.length < 2) throw new PretrainError('pearson: needs at least 2 values');
  const n = x.length;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i];
    meanY += y[i];
  }
  meanX /= n;
  meanY /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - meanX;
    const dy = y[i] - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks starting at 1; ties share the average of their ranks (scipy rankdata 'average'). */
export function averageRanks(values: Values): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

export function spearman(x: Values, y: Values): number {
  if (x.length !== y.length) throw new PretrainError(`spearman: ${x.length} predictions but ${y.length} references`);
  return pearson(averageRanks(x), averageRanks(y));
}
