import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadSafetensorsAsTensors } from '@pretrain/core';
import { AdamW, defaultDecays } from './adamw';

const fixture = path.join(__dirname, '../../../fixtures/hf/bert-pretraining');

beforeAll(async () => {
  await initBackend({ log: false });
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('AdamW', () => {
  it('one step reproduces torch.optim.AdamW on the bert-pretraining fixture within 1e-6', () => {
    const params = loadSafetensorsAsTensors(path.join(fixture, 'model/model.safetensors'));
    const grads = loadSafetensorsAsTensors(path.join(fixture, 'grads.safetensors'));
    const expected = loadSafetensorsAsTensors(path.join(fixture, 'after_adamw.safetensors'));
    // fixture.json train_step: AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01) over model.parameters().
    const variables = new Map([...grads.keys()].map((name) => [name, tf.variable(params.get(name)!, true)]));
    const optimizer = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decays: () => true });
    optimizer.step(variables, grads, 1e-3);
    expect(expected.size).toBe(46);
    let worst = 0;
    for (const [name, want] of expected) {
      const got = variables.get(name);
      expect(got).toBeDefined();
      worst = Math.max(worst, maxAbsDiff(got!, want));
    }
    expect(worst).toBeLessThan(1e-6);
    // The step really moved the parameters (a no-op optimizer would fail here).
    expect(maxAbsDiff(variables.get('cls.seq_relationship.weight')!, params.get('cls.seq_relationship.weight')!)).toBeGreaterThan(1e-4);
    optimizer.dispose();
    for (const m of [params, grads, expected]) for (const t of m.values()) t.dispose();
    for (const v of variables.values()) v.dispose();
  });

  it('matches a float64 reference of the torch update over three steps, including decay and bias correction', () => {
    const p0 = [0.5, -1.25, 2];
    const gs = [
      [0.1, -0.2, 0.3],
      [-0.05, 0.4, 0.0],
      [0.2, 0.2, -0.7],
    ];
    const lr = 0.01;
    const [b1, b2, eps, wd] = [0.9, 0.98, 1e-6, 0.1];
    const ref = [...p0];
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    gs.forEach((g, t) => {
      for (let i = 0; i < 3; i++) {
        ref[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** (t + 1)) + eps;
        ref[i] -= (lr / (1 - b1 ** (t + 1))) * (m[i] / denom);
      }
    });
    const variable = tf.variable(tf.tensor1d(p0));
    const optimizer = new AdamW({ beta1: b1, beta2: b2, eps, weightDecay: wd, decays: () => true });
    for (const g of gs) {
      const grad = tf.tensor1d(g);
      optimizer.step(new Map([['w', variable]]), new Map([['w', grad]]), lr);
      grad.dispose();
    }
    const got = Array.from(variable.dataSync());
    got.forEach((x, i) => expect(x).toBeCloseTo(ref[i], 6));
    expect(optimizer.stepOf('w')).toBe(3);
    optimizer.dispose();
    variable.dispose();
  });

  it('excludes biases and LayerNorm weights from weight decay by default', () => {
    expect(defaultDecays('encoder.layer.0.attention.self.query.weight')).toBe(true);
    expect(defaultDecays('embeddings.word_embeddings.weight')).toBe(true);
    expect(defaultDecays('h.0.attn.c_attn.weight')).toBe(true);
    expect(defaultDecays('encoder.layer.0.attention.self.query.bias')).toBe(false);
    expect(defaultDecays('embeddings.LayerNorm.weight')).toBe(false);
    expect(defaultDecays('cls.predictions.transform.LayerNorm.weight')).toBe(false);
    expect(defaultDecays('h.3.ln_1.weight')).toBe(false);
    expect(defaultDecays('ln_f.weight')).toBe(false);
    expect(defaultDecays('classifier.bias')).toBe(false);
  });

  it('saves and restores its state so the next step is identical, without leaking tensors', () => {
    const run = (restore: boolean): number[] => {
      const initial = tf.tensor1d([1, 2, 3]);
      const variable = tf.variable(initial);
      initial.dispose();
      const vars = new Map([['w', variable]]);
      let optimizer = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
      const g1 = tf.tensor1d([0.3, -0.1, 0.2]);
      const g2 = tf.tensor1d([-0.2, 0.5, 0.1]);
      optimizer.step(vars, new Map([['w', g1]]), 0.1);
      if (restore) {
        const saved = optimizer.getState();
        optimizer.dispose();
        optimizer = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
        optimizer.setState(saved, vars);
        for (const t of saved.tensors.values()) t.dispose();
      }
      optimizer.step(vars, new Map([['w', g2]]), 0.1);
      const out = Array.from(variable.dataSync());
      optimizer.dispose();
      variable.dispose();
      g1.dispose();
      g2.dispose();
      return out;
    };
    const before = tf.memory().numTensors;
    expect(run(true)).toEqual(run(false));
    expect(tf.memory().numTensors).toBe(before);
  });
});
