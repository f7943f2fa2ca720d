import * as path from 'path';
import { PRESETS } from './demo-presets';
import { DemoRow, judge, sentimentSplits, withBudget } from './demo';

const DATA = path.resolve(__dirname, '../../../../data');

describe('demo verdict', () => {
  /** 600 validation sentences: both arms right on `both`, only one arm right on `onlyPretrained` / `onlyScratch`. */
  function row(size: number, both: number, onlyPretrained: number, onlyScratch: number): DemoRow {
    const pretrained = new Uint8Array(600);
    const scratch = new Uint8Array(600);
    pretrained.fill(1, 0, both + onlyPretrained);
    scratch.fill(1, 0, both);
    scratch.fill(1, both + onlyPretrained, both + onlyPretrained + onlyScratch);
    return { size, pretrained: (both + onlyPretrained) / 600, scratch: (both + onlyScratch) / 600, correct: { pretrained, scratch } };
  }

  it('claims a gain only when the paired 95% interval of the average gain is above zero and the smallest size gains', () => {
    // Pre-trained right on 60 more sentences at 100 examples and 12 more at 2,400, never worse: +6 ± 1.3.
    const clear = judge([row(100, 360, 60, 0), row(2400, 468, 12, 0)], PRESETS.quick, 300);
    expect(clear).toEqual(['Pre-training helps at this budget (300 pre-training steps of 32 × 32 tokens): +6.0 ± 1.3 pt on average (paired 95% interval over 1200 validation predictions), +10.0 points with only 100 labeled examples.']);

    // +2 points, but the arms disagree on half the sentences: within noise.
    const noisy = judge([row(100, 240, 150, 138), row(2400, 300, 150, 138)], PRESETS.quick, 300);
    expect(noisy[0]).toBe('At this budget (300 pre-training steps of 32 × 32 tokens) the gain is NOT clear: +2.0 ± 3.9 pt on average (paired 95% interval over 1200 validation predictions).');
    expect(noisy.join('\n')).toContain(`${PRESETS.full.pretrain.maxSteps} steps (\`npm run demo -- --preset full\``);

    // A clear average gain that the smallest labeled set does not share is not claimed either.
    expect(judge([row(100, 360, 0, 6), row(2400, 400, 100, 0)], PRESETS.quick, 300)[0]).toMatch(/the gain is NOT clear: \+7\.8 ± /);

    const worse = judge([row(100, 330, 0, 60), row(2400, 420, 0, 60)], PRESETS.quick, 80);
    expect(worse[0]).toMatch(/^At this budget \(80 pre-training steps of 32 × 32 tokens\) pre-training HURTS: -10\.0 ± 1\.\d pt/);
  });

  it('overrides the pre-training budget from the command line, and rejects nonsense', () => {
    expect(withBudget(PRESETS.quick, 50, undefined).pretrain).toMatchObject({ maxSteps: 50, maxWallClockSeconds: 86400 });
    expect(withBudget(PRESETS.quick, undefined, 2).pretrain.maxWallClockSeconds).toBe(120);
    expect(PRESETS.quick.pretrain.maxWallClockSeconds).toBe(270);
    expect(() => withBudget(PRESETS.quick, 0, undefined)).toThrow('--pretrain-steps must be a positive integer');
  });
});

describe('sentiment splits', () => {
  it('reads the 3 × 1,000 committed UCI sentences into 2,400 train and 600 validation, both labels present', () => {
    const splits = sentimentSplits(DATA, 42);
    expect(splits.train).toHaveLength(2400);
    expect(splits.validation).toHaveLength(600);
    expect(new Set(splits.validation.map((r) => r.label))).toEqual(new Set(['0', '1']));
    const positives = splits.train.filter((r) => r.label === '1').length;
    expect(positives).toBeGreaterThan(1100);
    expect(positives).toBeLessThan(1300);
    const seen = new Set(splits.train.map((r) => r.text));
    expect(splits.validation.filter((r) => seen.has(r.text)).length).toBeLessThan(10);
  });
});
