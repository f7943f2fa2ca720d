import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, initBackend } from '@pretrain/core';
import { readSample } from '@pretrain/core/testing';
import type { Tokenizer } from '@pretrain/tokenizer';
import { decideLabels, readTaskFile } from './task-data';
import { encodeText, qaWindows } from './task-encode';
import { prepareRows, taggingMetrics } from './task-run';
import { trainTokenizer } from './tokenizers';
import { didYouMean } from './suggest';

let tokenizer: Tokenizer;
let dir: string;

beforeAll(async () => {
  await initBackend({ log: false });
  const sentences = (async function* () {
    yield* readSample().split(/(?<=[.!?])\s+/);
  })();
  tokenizer = await trainTokenizer(sentences, { type: 'wordpiece', vocabSize: 300 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-tasks-unit-'));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('qaWindows', () => {
  const question = 'where did the rabbit go';
  const context = readSample().slice(0, 1500);

  it('covers the whole context with windows sharing exactly `stride` tokens, the question in every window', () => {
    const whole = tokenizer.encode(question, context, { addSpecialTokens: true });
    const contextIds = whole.ids.filter((_, i) => whole.sequenceIds[i] === 1);
    const questionIds = whole.ids.filter((_, i) => whole.sequenceIds[i] === 0);
    const first = qaWindows(tokenizer, question, context, 40, 10);
    const windows = [first, ...first.overflowing];
    const room = 40 - questionIds.length - 3;
    expect(windows.length).toBe(1 + Math.ceil((contextIds.length - room) / (room - 10)));
    let covered = 0;
    windows.forEach((w, k) => {
      expect(w.ids.length).toBeLessThanOrEqual(40);
      expect(w.ids.filter((_, i) => w.sequenceIds[i] === 0)).toEqual(questionIds);
      const piece = w.ids.filter((_, i) => w.sequenceIds[i] === 1);
      const start = k * (room - 10);
      expect(piece).toEqual(contextIds.slice(start, start + room));
      covered = start + piece.length;
    });
    // The last window ends at the context's end: nothing is dropped (tokenizers 0.23.2 keeps at most one overflow).
    expect(covered).toBe(contextIds.length);
    expect(windows.length).toBeGreaterThan(2);
  });

  it('labels the answer in the windows that hold it and CLS elsewhere, with offsets into the context', () => {
    const answerText = context.slice(900, 940).split(' ').slice(1, 4).join(' ');
    const start = context.indexOf(answerText, 900);
    const prepared = prepareRows({ task: 'question-answering', maxLength: 40, stride: 10 }, tokenizer, [{ id: 'q', title: '', question, context, answers: [{ text: answerText, start }] }], true);
    const holding = prepared.examples.filter((e) => e.labels!.start_positions > 0);
    expect(holding.length).toBeGreaterThanOrEqual(1);
    expect(prepared.examples.length).toBeGreaterThan(holding.length);
  });

  it('a question that leaves no room beyond the stride is refused, naming data.stride', () => {
    expect(() => qaWindows(tokenizer, question, context, 12, 10)).toThrow(/data\.stride 10/);
  });
});

describe('encodeText', () => {
  it('cuts a pair longest-first and keeps every special token', () => {
    const a = 'alice was beginning to get very tired of sitting by her sister on the bank';
    const b = 'rabbit';
    const full = tokenizer.encode(a, b, { addSpecialTokens: true });
    const cut = encodeText(tokenizer, a, b, 10);
    expect(cut.inputIds.length).toBe(10);
    const specials = full.ids.filter((_, i) => full.specialTokensMask[i] === 1);
    expect(Array.from(cut.inputIds).filter((id) => specials.includes(id))).toEqual(specials);
    // The short second text survives whole; the first lost its tail.
    const bIds = full.ids.filter((_, i) => full.sequenceIds[i] === 1);
    expect(Array.from(cut.inputIds.slice(10 - 1 - bIds.length, 9))).toEqual(bIds);
    expect(Array.from(cut.tokenTypeIds!).filter((t) => t === 1).length).toBe(bIds.length + 1);
  });
});

describe('taggingMetrics (hand-computed)', () => {
  it('word accuracy and seqeval entity P/R/F1 on IOB2 tags', () => {
    const refs = [['B-PER', 'I-PER', 'O', 'B-LOC'], ['O', 'B-ORG']];
    const preds = [['B-PER', 'I-PER', 'O', 'O'], ['B-ORG', 'B-ORG']];
    // words right: 3 of 4 + 1 of 2 = 4/6. Entities: true PER, LOC, ORG (3); predicted PER, ORG(0), ORG(1) (3); correct PER, ORG(1) = 2.
    const m = taggingMetrics(refs, preds, ['O', 'B-PER', 'I-PER', 'B-LOC', 'B-ORG']);
    expect(m.token_accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.entity_precision).toBeCloseTo(2 / 3, 12);
    expect(m.entity_recall).toBeCloseTo(2 / 3, 12);
    expect(m.entity_f1).toBeCloseTo(2 / 3, 12);
  });

  it('a plain tag set (part of speech) gets word accuracy only', () => {
    expect(taggingMetrics([['NN', 'VB']], [['NN', 'NN']], ['NN', 'VB'])).toEqual({ token_accuracy: 0.5 });
  });
});

describe('data files through the corpus readers', () => {
  it('CSV: a quoted comma and a multi-line field stay in one row; rows keep their file:line', () => {
    const file = path.join(dir, 'quoted.csv');
    fs.writeFileSync(file, 'text,label\n"Good, very good",pos\n"two\nlines",neg\nplain,pos\n');
    const rows = readTaskFile('sequence-classification', { path: file, text: 'text', label: 'label', skipInvalid: false }, dir, 'data.train');
    expect(rows).toEqual([
      { text: 'Good, very good', label: 'pos', where: `${file}:2` },
      { text: 'two\nlines', label: 'neg', where: `${file}:3` },
      { text: 'plain', label: 'pos', where: `${file}:5` },
    ]);
  });

  it('skipInvalid skips malformed rows and says how many, with their file:line', () => {
    const file = path.join(dir, 'broken.tsv');
    fs.writeFileSync(file, 'good one\tpos\nno label column\nanother\tneg\n');
    expect(() => readTaskFile('sequence-classification', { path: file, skipInvalid: false }, dir, 'data.train')).toThrow(`${file}:2: expected at least 2 fields, found 1`);
    const log: string[] = [];
    const rows = readTaskFile('sequence-classification', { path: file, skipInvalid: true }, dir, 'data.train', (line) => log.push(line));
    expect(rows.map((r) => r.label)).toEqual(['pos', 'neg']);
    expect(log).toEqual([`note: ${file}: skipped 1 of 3 malformed rows (skipInvalid), e.g.`, `  ${file}:2: expected at least 2 fields, found 1`]);
  });

  it('JSONL pairs with float scores', () => {
    const file = path.join(dir, 'pairs.jsonl');
    fs.writeFileSync(file, '{"a": "x", "b": "y", "s": 1.5}\n{"a": "z", "b": "w", "s": "2"}\n');
    expect(readTaskFile('sequence-regression', { path: file, text: 'a', textPair: 'b', label: 's', skipInvalid: false }, dir, 'data.train')).toEqual([
      { text: 'x', textPair: 'y', score: 1.5, where: `${file}:1` },
      { text: 'z', textPair: 'w', score: 2, where: `${file}:2` },
    ]);
  });

  it('CoNLL: IOB1 becomes IOB2; a POS column is kept as written', () => {
    const file = path.join(dir, 'tags.txt');
    fs.writeFileSync(file, 'John NNP I-PER\nSmith NNP I-PER\nran VBD O\n\nParis NNP I-LOC\n');
    expect(readTaskFile('token-classification', { path: file, skipInvalid: false }, dir, 'data.train').map((r) => r.tags)).toEqual([['B-PER', 'I-PER', 'O'], ['B-LOC']]);
    expect(readTaskFile('token-classification', { path: file, tagColumn: 1, skipInvalid: false }, dir, 'data.train').map((r) => r.tags)).toEqual([['NNP', 'NNP', 'VBD'], ['NNP']]);
  });

  it('a format that cannot hold the task is a config error', () => {
    expect(() => readTaskFile('token-classification', { path: path.join(dir, 'quoted.csv'), format: 'csv', skipInvalid: false }, dir, 'data.train')).toThrow(/data\.train\.format: "csv" cannot hold token-classification data/);
  });
});

describe('decideLabels', () => {
  const rows = [{ text: 'a', label: 'neg' }, { text: 'b', label: 'pos' }];
  it('explicit lists must agree: data.labels vs head.options.labels vs the checkpoint', () => {
    expect(() => decideLabels('sequence-classification', { train: rows }, { dataLabels: ['neg', 'pos'], headLabels: ['pos', 'neg'] })).toThrow(ConfigError);
    expect(() => decideLabels('sequence-classification', { train: rows }, { checkpointLabels: ['negative', 'positive'], dataLabels: ['neg', 'pos'] })).toThrow(/data\.labels \(neg, pos\) differs from checkpoint \(negative, positive\)/);
    expect(decideLabels('sequence-classification', { train: rows }, { headLabels: ['pos', 'neg'] })).toMatchObject({ labels: ['pos', 'neg'], source: 'head.options.labels' });
  });
  it('numLabels must equal the number of labels, in both directions', () => {
    expect(() => decideLabels('sequence-classification', { train: rows }, { numLabels: 3 })).toThrow(/the data has 2 labels .* but head.options.numLabels is 3/);
    expect(decideLabels('sequence-classification', { train: rows }, { numLabels: 2 }).labels).toEqual(['neg', 'pos']);
  });
});

describe('didYouMean', () => {
  it('suggests close names only', () => {
    expect(didYouMean('learningrate', ['learningRate', 'maxSteps'])).toBe('learningRate');
    expect(didYouMean('xyz', ['learningRate', 'maxSteps'])).toBeUndefined();
  });
});
