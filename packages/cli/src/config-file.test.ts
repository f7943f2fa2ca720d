import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PretrainError } from '@pretrain/core';
import { applyOverrides, parseOverride, readConfigFile } from './config-file';
import { renderBar, formatDuration, ProgressBar } from './progress';

function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-config-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('readConfigFile', () => {
  it('reads YAML and JSON into the same plain data', () => {
    const yaml = tempFile('a.yaml', 'model:\n  name: bert\n  options:\n    hiddenSize: 64\nobjectives:\n  - name: mlm\n');
    const json = tempFile('a.json', JSON.stringify({ model: { name: 'bert', options: { hiddenSize: 64 } }, objectives: [{ name: 'mlm' }] }));
    expect(readConfigFile(yaml)).toEqual(readConfigFile(json));
  });

  it('names the file for a missing config', () => {
    expect(() => readConfigFile('/nonexistent/exp.yaml')).toThrow('Cannot read config /nonexistent/exp.yaml: no such file');
  });

  it('names file and line for invalid YAML', () => {
    const file = tempFile('bad.yaml', 'model:\n  name: bert\n  options: [1, 2\nobjectives: []\n');
    expect(() => readConfigFile(file)).toThrow(new RegExp(`Invalid YAML in ${file.replace(/[.]/g, '\\.')} at line [34]`));
  });

  it('names file and line for invalid JSON', () => {
    const file = tempFile('bad.json', '{\n  "model": {\n    "name": "bert",\n  }\n}\n');
    expect(() => readConfigFile(file)).toThrow(/Invalid JSON in .*bad\.json at line 4/);
  });

  it('rejects a config whose top level is not a mapping', () => {
    const file = tempFile('list.yaml', '- a\n- b\n');
    expect(() => readConfigFile(file)).toThrow('the top level must be a mapping');
  });
});

describe('--set overrides', () => {
  it('parses paths with dots and indices, values as JSON when they parse', () => {
    expect(parseOverride('objectives[1].options.maskProbability=0.2')).toEqual({ path: ['objectives', 1, 'options', 'maskProbability'], value: 0.2 });
    expect(parseOverride('trainer.schedule=cosine')).toEqual({ path: ['trainer', 'schedule'], value: 'cosine' });
    expect(parseOverride('data.labels=["neg","pos"]').value).toEqual(['neg', 'pos']);
    expect(parseOverride('a.b=true').value).toBe(true);
  });

  it('applies overrides without touching the original, creating sections', () => {
    const original = { trainer: { maxSteps: 10 }, objectives: [{ name: 'mlm' }, { name: 'nsp' }] };
    const result = applyOverrides(original, ['trainer.maxSteps=50', 'objectives.1.weight=0.5', 'data.limit=100']);
    expect(result).toEqual({ trainer: { maxSteps: 50 }, objectives: [{ name: 'mlm' }, { name: 'nsp', weight: 0.5 }], data: { limit: 100 } });
    expect(original.trainer.maxSteps).toBe(10);
  });

  it('rejects malformed assignments and writing inside a scalar', () => {
    expect(() => parseOverride('trainer.maxSteps')).toThrow('expected key.path=value');
    expect(() => applyOverrides({ seed: 1 }, ['seed.x=2'])).toThrow('"seed" is a number, not a section');
  });

  it.each(['__proto__.polluted=yes', 'a.__proto__.polluted=yes', '[__proto__][polluted]=yes', 'constructor.prototype.polluted=yes', 'a.constructor.prototype.polluted=yes'])(
    'rejects %s without touching Object.prototype',
    (assignment) => {
      expect(() => applyOverrides({ a: {} }, [assignment])).toThrow(PretrainError);
      expect(() => applyOverrides({ a: {} }, [assignment])).toThrow('is not allowed in a key path');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    },
  );
});

describe('progress bar', () => {
  it('draws a bar with counter and ETA on a terminal, one rewritten line', () => {
    let t = 0;
    const out: string[] = [];
    const bar = new ProgressBar({ label: 'pretrain', total: 4, stream: { write: (s: string) => out.push(s), isTTY: true, columns: 80 }, now: () => t });
    t = 1000;
    bar.update(1, 'loss 5.000');
    t = 2000;
    bar.update(2, 'loss 4.000');
    bar.done();
    expect(out[0]).toMatch(/^\rpretrain 1\/4 \[=====> {18}\] loss 5\.000 · ETA 3s/);
    expect(out[1]).toMatch(/^\rpretrain 2\/4 .* ETA 2s/);
    expect(out[2]).toBe('\n');
  });

  it('prints plain lines at an interval when not on a terminal', () => {
    let t = 0;
    const out: string[] = [];
    const bar = new ProgressBar({ label: 'finetune', total: 3, stream: { write: (s: string) => out.push(s) }, plainIntervalMs: 1000, now: () => t });
    bar.update(1);
    t = 500;
    bar.update(2);
    t = 600;
    bar.update(3);
    expect(out).toEqual(['finetune 1/3 ETA 0s\n', 'finetune 3/3 ETA 0s\n']);
  });

  it('formats bars and durations', () => {
    expect(renderBar(0, 4)).toBe('[    ]');
    expect(renderBar(1, 4)).toBe('[====]');
    expect(formatDuration(65_000)).toBe('1m05s');
    expect(formatDuration(3_700_000)).toBe('1h01m');
  });
});
