import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_UPDATE, backendHasKernel, type NamedVariables } from '@pretrain/core';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay coefficient (torch's `weight_decay`). */
  weightDecay: number;
  /** Which parameters get weight decay; default: everything except biases and LayerNorm parameters. */
  decays?: (name: string) => boolean;
}

/** Per-parameter state, exactly torch.optim.AdamW's `state[p]`. */
interface ParamState {
  step: number;
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

/** Serializable optimizer state: moments as tensors (by `exp_avg.<name>` / `exp_avg_sq.<name>`) plus step counts. */
export interface AdamWState {
  steps: Record<string, number>;
  tensors: Map<string, tf.Tensor>;
}

const NO_DECAY = /(^|\.)(bias|[^.]*LayerNorm[^.]*\.weight|[^.]*layer_norm[^.]*\.weight|ln_[^.]*\.weight|ln_f\.weight)$/;

/** HF's default: no weight decay for biases and LayerNorm (BERT `LayerNorm`, GPT-2 `ln_1/ln_2/ln_f`) weights. */
export function defaultDecays(name: string): boolean {
  return !NO_DECAY.test(name);
}

/**
 * AdamW with torch.optim.AdamW semantics (single-tensor path, amsgrad off):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)
 * Scalars are computed in float64 on the host, like torch's Python-side math.
 */
export class AdamW {
  private readonly state = new Map<string, ParamState>();
  private readonly decays: (name: string) => boolean;

  constructor(private readonly options: AdamWOptions) {
    this.decays = options.decays ?? defaultDecays;
  }

  /**
   * Applies one update to each variable that has a gradient. `lr` is the learning rate for this step;
   * `lrScale` (optional) multiplies it per parameter (layer-wise LR decay). Gradients are not disposed.
   */
  step(variables: NamedVariables, grads: Map<string, tf.Tensor>, lr: number, lrScale?: (name: string) => number): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    const fused = backendHasKernel(ADAMW_UPDATE);
    for (const [name, grad] of grads) {
      const param = variables.get(name);
      if (!param) throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
      const state = this.stateFor(name, param);
      state.step += 1;
      const paramLr = lr * (lrScale ? lrScale(name) : 1);
      const decay = this.decays(name) ? weightDecay : 0;
      const biasCorrection1 = 1 - Math.pow(beta1, state.step);
      const biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, state.step));
      const stepSize = paramLr / biasCorrection1;
      if (fused) {
        // One kernel per parameter where the backend has it (backend "native"): the same float32 operations.
        tf.tidy(() => {
          const g = grad.dtype === 'float32' ? grad : tf.cast(grad, 'float32');
          const attrs = { decay: 1 - paramLr * decay, beta1, beta2, biasCorrection2Sqrt, eps, stepSize };
          const [p, m, v] = tf.engine().runKernel(ADAMW_UPDATE, { param, grad: g, expAvg: state.expAvg, expAvgSq: state.expAvgSq }, attrs) as tf.Tensor[];
          state.expAvg.assign(m);
          state.expAvgSq.assign(v);
          param.assign(p);
        });
        continue;
      }
      tf.tidy(() => {
        const g = grad.dtype === 'float32' ? grad : tf.cast(grad, 'float32');
        const decayed = decay !== 0 ? tf.mul(param, tf.scalar(1 - paramLr * decay)) : param;
        const expAvg = tf.add(tf.mul(state.expAvg, tf.scalar(beta1)), tf.mul(g, tf.scalar(1 - beta1)));
        const expAvgSq = tf.add(tf.mul(state.expAvgSq, tf.scalar(beta2)), tf.mul(tf.mul(g, g), tf.scalar(1 - beta2)));
        const denom = tf.add(tf.div(tf.sqrt(expAvgSq), tf.scalar(biasCorrection2Sqrt)), tf.scalar(eps));
        const updated = tf.sub(decayed, tf.mul(tf.div(expAvg, denom), tf.scalar(stepSize)));
        state.expAvg.assign(expAvg);
        state.expAvgSq.assign(expAvgSq);
        param.assign(updated);
      });
    }
  }

  /** Number of updates applied to a parameter so far (0 if never updated). */
  stepOf(name: string): number {
    return this.state.get(name)?.step ?? 0;
  }

  /** Copies of the moments (caller disposes) and per-parameter step counts. */
  getState(): AdamWState {
    const tensors = new Map<string, tf.Tensor>();
    const steps: Record<string, number> = {};
    for (const [name, s] of this.state) {
      steps[name] = s.step;
      tensors.set(`exp_avg.${name}`, tf.clone(s.expAvg));
      tensors.set(`exp_avg_sq.${name}`, tf.clone(s.expAvgSq));
    }
    return { steps, tensors };
  }

  /** Restores moments saved by getState; the tensors are copied, not kept. */
  setState(saved: AdamWState, variables: NamedVariables): void {
    this.dispose();
    for (const [name, step] of Object.entries(saved.steps)) {
      const param = variables.get(name);
      if (!param) throw new Error(`AdamW.setState: saved state for unknown parameter "${name}"`);
      const m = saved.tensors.get(`exp_avg.${name}`);
      const v = saved.tensors.get(`exp_avg_sq.${name}`);
      if (!m || !v) throw new Error(`AdamW.setState: moments for "${name}" are missing`);
      if (!sameShape(m.shape, param.shape) || !sameShape(v.shape, param.shape)) {
        throw new Error(`AdamW.setState: moments for "${name}" have shape [${m.shape}], parameter has [${param.shape}]`);
      }
      this.state.set(name, { step, expAvg: ownedVariable(tf.clone(m)), expAvgSq: ownedVariable(tf.clone(v)) });
    }
  }

  dispose(): void {
    for (const s of this.state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.state.clear();
  }

  private stateFor(name: string, param: tf.Variable): ParamState {
    let state = this.state.get(name);
    if (!state) {
      state = { step: 0, expAvg: ownedVariable(tf.zerosLike(param)), expAvgSq: ownedVariable(tf.zerosLike(param)) };
      this.state.set(name, state);
    }
    return state;
  }
}

/** A non-trainable variable holding `initial`'s values; `initial` is disposed so no tensor outlives it. */
function ownedVariable(initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial, false);
  initial.dispose();
  return variable;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
