import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '@pretrain/core';
import { hyperparameterSearch, searchTrials } from './search';
import { Trainer, type Prediction } from './trainer';
import { labeledExamples, TinyBackbone, TinyClassifierHead } from './test-utils/tiny-models';

beforeAll(async () => {
  await initBackend({ log: false });
});

const accuracy = (predictions: Prediction[], examples: { labels?: Record<string, number> }[]) => {
  let correct = 0;
  predictions.forEach((p, i) => {
    const v = Array.from(p.values);
    if (v.indexOf(Math.max(...v)) === examples[i].labels!.labels) correct++;
  });
  return { accuracy: correct / predictions.length };
};

describe('searchTrials', () => {
  it('grid search enumerates every combination', () => {
    const trials = searchTrials({ method: 'grid', space: { learningRate: [1e-3, 1e-4], batchSize: [8, 16, 32] } });
    expect(trials).toHaveLength(6);
    expect(trials).toContainEqual({ learningRate: 1e-4, batchSize: 16 });
  });
  it('random search draws reproducibly from lists and (log) ranges', () => {
    const options = { method: 'random' as const, trials: 20, seed: 3, space: { learningRate: { min: 1e-5, max: 1e-3, scale: 'log' as const }, epochs: [1, 2, 3] } };
    const a = searchTrials(options);
    expect(a).toEqual(searchTrials(options));
    expect(a).toHaveLength(20);
    for (const t of a) {
      expect(t.learningRate).toBeGreaterThanOrEqual(1e-5);
      expect(t.learningRate).toBeLessThanOrEqual(1e-3);
      expect([1, 2, 3]).toContain(t.epochs);
    }
    expect(new Set(a.map((t) => t.epochs)).size).toBe(3);
  });
  it('rejects ranges in a grid, naming the field', () => {
    expect(() => searchTrials({ method: 'grid', space: { learningRate: { min: 1, max: 2 } } })).toThrow(/search\.space\.learningRate: grid search needs a list/);
  });
});

describe('hyperparameterSearch', () => {
  it('judges trials on validation, writes a results table, and evaluates the best once on test', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-search-'));
    const train = labeledExamples(48, 1);
    const validation = labeledExamples(24, 2);
    const test = labeledExamples(24, 3);
    const lines: string[] = [];
    const result = await hyperparameterSearch({
      search: { method: 'grid', metric: 'accuracy', space: { learningRate: [0.0001, 0.05], strategy: [{ type: 'full' }, { type: 'frozen-backbone' }] } },
      baseOptions: { batchSize: 8, epochs: 2, progress: 'none', seed: 4 },
      outputDir: dir,
      createModel: () => {
        const backbone = new TinyBackbone();
        const head = new TinyClassifierHead();
        return { backbone, head, dispose: () => (backbone.dispose(), head.dispose()) };
      },
      train,
      validation,
      test,
      computeMetrics: accuracy,
      log: (l) => lines.push(l),
    });
    expect(result.trials).toHaveLength(4);
    const best = Math.max(...result.trials.map((t) => t.score));
    expect(result.best.score).toBe(best);
    const table = fs.readFileSync(result.tablePath, 'utf8').trim().split('\n');
    expect(table[0]).toBe('| trial | learningRate | strategy | validation accuracy | best step | note |');
    expect(table.filter((l) => /^\| \d/.test(l))).toHaveLength(4);
    expect(table.find((l) => l.endsWith('| best |'))).toContain(`| ${result.best.trial} |`);
    expect(fs.existsSync(path.join(dir, 'test-results.json'))).toBe(true);

    // The reported test score is the best trial's best model on test, evaluated independently here.
    const backbone = new TinyBackbone();
    const head = new TinyClassifierHead();
    const trainer = new Trainer({ backbone, head, computeMetrics: accuracy, options: { progress: 'none' } });
    trainer.loadModel(path.join(result.best.dir, 'best'));
    expect((await trainer.evaluate(test)).accuracy).toBe(result.test!.accuracy);
    expect(lines.filter((l) => l.startsWith('test (once'))).toHaveLength(1);
    trainer.dispose();
    backbone.dispose();
    head.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
