import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { lrMultiplier, resolveWarmupSteps } from './schedule';
import { clipByGlobalNorm } from './clip';
import { barLine, createProgress, formatDuration, plainLine } from './progress';
import { greaterIsBetter } from './options';

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('schedules (HF get_*_schedule_with_warmup semantics)', () => {
  it('linear: warmup from 0, then linear decay to 0 at the last step', () => {
    const o = { type: 'linear' as const, warmupSteps: 2, totalSteps: 10 };
    expect([0, 1, 2, 6, 10].map((s) => lrMultiplier(s, o))).toEqual([0, 0.5, 1, 0.5, 0]);
  });
  it('cosine: half a cosine wave after warmup', () => {
    const o = { type: 'cosine' as const, warmupSteps: 2, totalSteps: 10 };
    expect(lrMultiplier(2, o)).toBeCloseTo(1, 12);
    expect(lrMultiplier(6, o)).toBeCloseTo(0.5, 12);
    expect(lrMultiplier(4, o)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.25)), 12);
    expect(lrMultiplier(10, o)).toBeCloseTo(0, 12);
  });
  it('constant (with warmup)', () => {
    expect([0, 1, 2, 500].map((s) => lrMultiplier(s, { type: 'constant', warmupSteps: 2 }))).toEqual([0, 0.5, 1, 1]);
  });
  it('warmup ratio rounds up like HF', () => {
    expect(resolveWarmupSteps(0, 0.1, 95)).toBe(10);
    expect(resolveWarmupSteps(3, 0.1, 95)).toBe(3);
    expect(() => resolveWarmupSteps(undefined, 0.1, undefined)).toThrow(/warmupRatio needs the total/);
  });
});

describe('clip by global norm (torch.nn.utils.clip_grad_norm_)', () => {
  it('scales by max_norm / (norm + 1e-6) when the norm is larger, else leaves gradients alone', () => {
    const grads = new Map([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor1d([0, 4])],
    ]);
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    expect(norm).toBeCloseTo(5, 6);
    const coef = 1 / (5 + 1e-6);
    expect(Array.from(clipped.get('a')!.dataSync())[0]).toBeCloseTo(3 * coef, 7);
    expect(Array.from(clipped.get('b')!.dataSync())[1]).toBeCloseTo(4 * coef, 7);
    const small = new Map([['a', tf.tensor1d([0.1])]]);
    const same = clipByGlobalNorm(small, 1);
    expect(same.grads).toBe(small);
    tf.dispose([...clipped.values(), ...small.values()]);
  });
});

describe('progress output', () => {
  const line = { step: 50, totalSteps: 200, epoch: 1, loss: 1.23456, learningRate: 2e-5, tokensPerSecond: 1234.4, elapsedMs: 60_000 };
  it('plain lines carry loss, tokens/s and ETA', () => {
    expect(plainLine(line)).toBe('step 50/200 epoch 1 loss 1.2346 lr 2.000e-5 1234 tok/s elapsed 1m00s ETA 3m00s');
  });
  it('the bar fills with progress', () => {
    expect(barLine(line, 100)).toMatch(/^\[=+ +\] 50\/200 loss 1\.2346 1234 tok\/s ETA 3m00s$/);
    expect(formatDuration(3_725_000)).toBe('1h02m');
    // A wall-clock budget caps the ETA.
    expect(plainLine({ ...line, budgetMs: 90_000 })).toMatch(/ETA 30s$/);
  });
  it('writes plain lines every logEvery steps when not on a terminal', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const progress = createProgress('auto', stream, 25);
    for (const step of [1, 25, 26, 50]) progress.update({ ...line, step });
    expect(written.map((w) => w.split(' ')[1])).toEqual(['25/200', '50/200']);
  });
});

describe('greaterIsBetter', () => {
  it('minimises losses, perplexity and error metrics by default, maximises the rest, and an explicit choice wins', () => {
    for (const metric of ['loss', 'eval_loss', 'mlm_loss', 'perplexity', 'mse', 'rmse', 'mae']) expect([metric, greaterIsBetter({ metricForBest: metric })]).toEqual([metric, false]);
    for (const metric of ['accuracy', 'f1', 'pearson', 'entity_f1', 'matthews', 'exact_match']) expect([metric, greaterIsBetter({ metricForBest: metric })]).toEqual([metric, true]);
    expect(greaterIsBetter({ metricForBest: 'mse', greaterIsBetter: true })).toBe(true);
  });
});
