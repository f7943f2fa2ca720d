import * as path from 'path';
import { PRESETS } from './demo-presets';
import { judge, sentimentSplits, withBudget } from './demo';

const DATA = path.resolve(__dirname, '../../../../data');

describe('demo verdict', () => {
  it('claims a gain only when it is +2 points on average and positive at the smallest size', () => {
    const clear = judge([{ size: 100, pretrained: 0.7, scratch: 0.6 }, { size: 2400, pretrained: 0.8, scratch: 0.78 }], PRESETS.quick, 300);
    expect(clear).toHaveLength(1);
    expect(clear[0]).toMatch(/^Pre-training helps at this budget \(300 pre-training steps of 32 × 32 tokens\): \+6\.0 points on average, \+10\.0 with only 100/);
    const unclear = judge([{ size: 100, pretrained: 0.55, scratch: 0.56 }, { size: 2400, pretrained: 0.75, scratch: 0.74 }], PRESETS.quick, 80);
    expect(unclear[0]).toBe('At this budget (80 pre-training steps of 32 × 32 tokens) the gain is NOT clear: +0.0 points on average.');
    expect(unclear[1]).toContain(`${PRESETS.full.pretrain.maxSteps} steps (\`npm run demo -- --preset full\``);
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
