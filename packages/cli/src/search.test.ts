/**
 * `pretrain search` on every task: it optimises the task's main metric unless --metric or
 * trainer.metricForBest names another, minimises loss/mse, and picks the trial the numbers say.
 * CLI runs: STS-B regression and CoNLL part-of-speech tagging (2 trials × 2 steps each, from the shipped
 * pre-trained BERT, configs of docs/guides/finetune without their metricForBest).
 */
import * as fs from 'fs';
import * as path from 'path';
import { searchMetric } from './commands/search';
import { metricGreaterIsBetter } from './pipeline/task-run';
import { readConfigFile } from './config-file';
import { REPO_ROOT, runBin, suiteTempDir, writeJson } from './test-utils/run-bin';

const PRETRAINED = path.join(REPO_ROOT, 'data', 'pretrained', 'bert-tiny-books-reviews');
const GUIDE_CONFIGS = path.join(REPO_ROOT, 'docs', 'guides', 'finetune');

/** A guide config with absolute data paths and no trainer.metricForBest, as JSON in `dir`. */
function configWithoutMetric(dir: string, name: string): string {
  const config = readConfigFile(path.join(GUIDE_CONFIGS, `${name}.yaml`)) as { data: Record<string, { path?: string }>; trainer: Record<string, unknown> };
  for (const split of ['train', 'validation']) config.data[split].path = path.resolve(GUIDE_CONFIGS, config.data[split].path!);
  delete config.trainer.metricForBest;
  return writeJson(path.join(dir, `${name}.json`), config);
}

const work = suiteTempDir('search');

describe('searchMetric', () => {
  it('--metric, else trainer.metricForBest, else the main metric of the task', () => {
    expect(searchMetric('sequence-classification', undefined, undefined).metric).toBe('accuracy');
    expect(searchMetric('sequence-regression', undefined, undefined).metric).toBe('pearson');
    expect(searchMetric('token-classification', undefined, undefined).metric).toBe('entity_f1');
    expect(searchMetric('question-answering', undefined, undefined).metric).toBe('f1');
    expect(searchMetric('question-answering', undefined, 'exact_match')).toEqual({ metric: 'exact_match', source: 'trainer.metricForBest' });
    expect(searchMetric('sequence-regression', 'mse', 'pearson')).toEqual({ metric: 'mse', source: '--metric' });
  });

  it('refuses a metric the task does not report, with a suggestion', () => {
    expect(() => searchMetric('sequence-regression', 'pearsn', undefined)).toThrow('--metric: "pearsn" is not reported for sequence-regression (loss, pearson, spearman, mse); did you mean "pearson"?');
  });
});

describe('metricGreaterIsBetter', () => {
  it('minimises loss and the regression error mse, maximises the rest; an explicit choice wins', () => {
    expect(['loss', 'mse', 'accuracy', 'pearson', 'entity_f1', 'exact_match'].map((m) => metricGreaterIsBetter(m))).toEqual([false, false, true, true, true, true]);
    expect(metricGreaterIsBetter('mse', true)).toBe(true);
  });
});

describe('pretrain search on other tasks than classification', () => {
  const trialsOf = (out: string) => JSON.parse(fs.readFileSync(path.join(out, 'search-results.json'), 'utf8'));

  it('STS-B regression: optimises validation Pearson by default, highest wins; --metric mse picks the lowest', () => {
    const config = configWithoutMetric(work, 'stsb');
    const out = path.join(work, 'stsb');
    const result = runBin(['search', '-c', config, '--from', PRETRAINED, '--grid', 'trainer.learningRate=1e-3,1e-4', '-o', out, '--set', 'trainer.maxSteps=2']);
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stderr).toContain('optimising validation pearson (default for sequence-regression)');
    const found = trialsOf(out);
    expect(found).toMatchObject({ metric: 'pearson', greaterIsBetter: true });
    expect(found.results).toHaveLength(2);
    const values = found.results.map((r: { value: number; metrics: { pearson: number } }) => {
      expect(r.value).toBe(r.metrics.pearson);
      return r.value;
    });
    expect(values.every(Number.isFinite)).toBe(true);
    expect(found.best.value).toBe(Math.max(...values));
    expect(result.stdout).toMatch(/trial +trainer\.learningRate +validation pearson/);
    expect(result.stdout).toContain(`best: trial ${found.best.trial} (`);
    expect(fs.existsSync(path.join(out, `trial-${found.best.trial}`, 'checkpoint', 'model.safetensors'))).toBe(true);

    const byMse = path.join(work, 'stsb-mse');
    const mse = runBin(['search', '-c', config, '--from', PRETRAINED, '--grid', 'trainer.learningRate=1e-3,1e-4', '-o', byMse, '--set', 'trainer.maxSteps=2', '--metric', 'mse']);
    expect({ status: mse.status, stderr: mse.status === 0 ? '' : mse.stderr }).toEqual({ status: 0, stderr: '' });
    const lowest = trialsOf(byMse);
    expect(lowest).toMatchObject({ metric: 'mse', greaterIsBetter: false });
    expect(lowest.best.value).toBe(Math.min(...lowest.results.map((r: { metrics: { mse: number } }) => r.metrics.mse)));
  });

  it('part-of-speech tagging: a tag set that is not IOB has no entity F1, so token accuracy is optimised', () => {
    const config = configWithoutMetric(work, 'conll-pos');
    const out = path.join(work, 'pos');
    const result = runBin(['search', '-c', config, '--from', PRETRAINED, '--grid', 'trainer.learningRate=1e-3,1e-4', '-o', out, '--set', 'trainer.maxSteps=2']);
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const found = trialsOf(out);
    expect(found.metric).toBe('token_accuracy');
    expect(found.best.value).toBe(Math.max(...found.results.map((r: { metrics: { token_accuracy: number } }) => r.metrics.token_accuracy)));
  });

  it('a --metric the task does not report stops before any trial, naming the flag', () => {
    const result = runBin(['search', '-c', path.join(GUIDE_CONFIGS, 'stsb.yaml'), '--from', PRETRAINED, '--grid', 'trainer.learningRate=1e-3', '-o', path.join(work, 'bad'), '--metric', 'accuracy']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--metric: "accuracy" is not reported for sequence-regression');
    expect(fs.existsSync(path.join(work, 'bad', 'trial-1'))).toBe(false);
  });
});
