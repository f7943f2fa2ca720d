/**
 * Kernels core names but does not implement itself: a kernel pack (e.g. @pretrain/backend-native) may
 * provide them for its backend. Where none is registered, callers compose the same math from TF.js ops,
 * so the default backends compute exactly what they computed before.
 *   PretrainGelu      {x}, {approximate}        → y    (approximate false: x Φ(x); true: GPT-2's tanh form)
 *   PretrainGeluGrad  {dy, x}, {approximate}    → dx
 *   PretrainAdamW     {param, grad, expAvg, expAvgSq},
 *                     {decay, beta1, beta2, biasCorrection2Sqrt, eps, stepSize} → [param', expAvg', expAvgSq']
 *                     (torch.optim.AdamW's update, as @pretrain/trainer's AdamW composes it)
 *   PretrainLinearCrossEntropy {hidden, weight, labels}, {scale, gradients}
 *                     → [loss per row, hit per row, d hidden, d weight]
 *                     (logits = hidden · weightᵀ and softmax cross-entropy without materialising the logits;
 *                     with `gradients` also the gradients of scale · Σ loss, else the last two are empty)
 *   PretrainDropoutMask {}, {shape, state, threshold, scale} → [mask, state']
 *                     (Rng.fillDropoutMask: the same masks from the same generator state; state' is the
 *                     generator's next state as int32 [4])
 */
import * as tf from '@tensorflow/tfjs-core';

export const GELU = 'PretrainGelu';
export const GELU_GRAD = 'PretrainGeluGrad';
export const ADAMW_UPDATE = 'PretrainAdamW';
export const DROPOUT_MASK = 'PretrainDropoutMask';
export const LINEAR_CROSS_ENTROPY = 'PretrainLinearCrossEntropy';

/** PretrainDropoutMask's attributes: the mask's shape, the generator's four state words, keep threshold (of 65536) and scale. */
export interface DropoutMaskAttrs {
  shape: number[];
  state: number[];
  threshold: number;
  scale: number;
}

/** Names of the kernels above, for packs that add them (they have no kernel to replace). */
export const OPTIONAL_KERNELS: readonly string[] = [GELU, GELU_GRAD, ADAMW_UPDATE, DROPOUT_MASK, LINEAR_CROSS_ENTROPY];

/** Whether the active backend has `kernelName` (an optional kernel a pack provides). */
export function backendHasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

tf.registerGradient({
  kernelName: GELU,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return { x: () => tf.engine().runKernel(GELU_GRAD, { dy: dy as tf.Tensor, x }, attrs) as tf.Tensor };
  },
});
