import * as tf from '@tensorflow/tfjs-core';

/**
 * torch.nn.utils.clip_grad_norm_: scales every gradient by max_norm / (total_norm + 1e-6) when that is
 * below 1. Returns the new gradients (the old ones are disposed when replaced) and the norm before clipping.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = globalNorm(grads);
  const coef = maxNorm / (norm + 1e-6);
  if (!(coef < 1)) return { grads, norm };
  const clipped = new Map<string, tf.Tensor>();
  const scale = tf.scalar(coef);
  for (const [name, g] of grads) {
    clipped.set(name, tf.mul(g, scale));
    g.dispose();
  }
  scale.dispose();
  return { grads: clipped, norm };
}

/** L2 norm of all gradients together (a host number). */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const total = tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(squares));
  });
  const value = total.dataSync()[0];
  total.dispose();
  return value;
}
