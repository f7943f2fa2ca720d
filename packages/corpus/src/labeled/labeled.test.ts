import * as os from 'os';
import * as path from 'path';
import { readConll, toIob2 } from './conll';
import { readDelimited, readGlue } from './delimited';
import { readJsonlExamples } from './jsonl';
import { readSquad } from './squad';
import { pretrainErrorOf } from '../test-utils/errors';
import { writeTempFile } from '../test-utils/temp';

const fixtures = path.join(__dirname, '../../../../fixtures/data/labeled');

describe('GLUE TSV/CSV', () => {
  it('STS-B sample (copied real rows): float scores and sentence pairs', () => {
    const data = readGlue('stsb', path.join(fixtures, 'stsb/dev.sample.tsv'));
    expect(data.examples).toHaveLength(20);
    expect(data.examples[0]).toEqual({ id: 'dev.sample.tsv:2', text: 'A man with a hard hat is dancing.', textPair: 'A man wearing a hard hat is dancing.', score: 5 });
    expect(data.examples[1].score).toBe(4.75);
    // Sum computed independently with awk over the same file.
    expect(data.examples.reduce((s, e) => s + e.score, 0)).toBeCloseTo(71.126, 6);
  });

  it('CSV with quoted fields holding delimiters, quotes and newlines; rows keep their starting line', () => {
    const file = writeTempFile('reviews.csv', 'text,label\n"Great, really ""great""",pos\n"Two\nlines",neg\nplain,pos\n');
    const data = readDelimited(file, { textColumn: 'text', labelColumn: 'label' });
    expect(data.examples.map((e) => [e.id, e.text, e.label, e.labelName])).toEqual([
      ['reviews.csv:2', 'Great, really "great"', 1, 'pos'],
      ['reviews.csv:3', 'Two\nlines', 0, 'neg'],
      ['reviews.csv:5', 'plain', 1, 'pos'],
    ]);
    expect(data.labels).toEqual({ names: ['neg', 'pos'], ids: { neg: 0, pos: 1 } });
  });

  it('TSV ignores quotes by default (GLUE files have unbalanced ones); BOM and CRLF are handled', () => {
    const file = writeTempFile('pairs.tsv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\t" The pie\tThe "pie" too\r\n0\t3\t4\tA\tB\r\n')]));
    const data = readGlue('mrpc', file);
    expect(data.examples).toEqual([
      { id: 'pairs.tsv:2', text: '" The pie', textPair: 'The "pie" too', label: 1, labelName: '1' },
      { id: 'pairs.tsv:3', text: 'A', textPair: 'B', label: 0, labelName: '0' },
    ]);
  });

  it('malformed rows stop with file and line, or are skipped and counted with skipInvalid', () => {
    const file = writeTempFile('sst.tsv', 'sentence\tlabel\ngood film\t1\nno label column\nbad label\t7\nfine\t0\n');
    const error = pretrainErrorOf(() => readGlue('sst2', file));
    expect(error.message).toBe(`${file}:3: expected at least 2 fields, found 1`);
    expect(error.details).toMatchObject({ file, line: 3 });
    const data = readGlue('sst2', file, { skipInvalid: true });
    expect(data.examples.map((e) => e.text)).toEqual(['good film', 'fine']);
    expect(data.summary).toMatchObject({ rows: 4, examples: 2, skipped: 2 });
    expect(data.summary.problems[1]).toBe(`${file}:4: unknown label "7" (expected one of: 0, 1)`);
  });

  it('a non-numeric STS-B score and an unclosed CSV quote name their line', () => {
    const tsv = writeTempFile('stsb.tsv', 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\t0\ts\ts\tA\tB\tfive\n');
    expect(pretrainErrorOf(() => readGlue('stsb', tsv)).message).toBe(`${tsv}:2: score "five" is not a number`);
    const csv = writeTempFile('open.csv', 'text,label\nok,1\n"never closed,1\n');
    expect(pretrainErrorOf(() => readDelimited(csv, { textColumn: 0, labelColumn: 1 })).message).toMatch(new RegExp(`^${escape(csv)}:\\d+: cannot parse CSV: Quote Not Closed`));
  });

  it('missing, binary and invalid-UTF-8 files; an unknown column', () => {
    const missing = path.join(os.tmpdir(), 'definitely-missing-dir', 'dev.tsv');
    expect(pretrainErrorOf(() => readGlue('sst2', missing)).message).toBe(`${missing}: file not found`);
    const binary = writeTempFile('x.tsv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0x08, 0]));
    expect(pretrainErrorOf(() => readGlue('sst2', binary)).message).toMatch(/binary file/);
    const latin1 = writeTempFile('l.tsv', Buffer.concat([Buffer.from('sentence\tlabel\ncaf'), Buffer.from([0xe9]), Buffer.from('\t1\n')]));
    const data = readGlue('sst2', latin1);
    expect(data.examples[0].text).toBe('caf\uFFFD');
    expect(data.summary.invalidUtf8).toBe(1);
    expect(pretrainErrorOf(() => readDelimited(latin1, { textColumn: 'text', labelColumn: 'label' })).message).toBe(`${latin1}:1: no column "text" in the header (columns: sentence, label)`);
  });
});

describe('JSONL examples', () => {
  it('reads chosen (nested) fields as classification or regression examples', () => {
    const file = writeTempFile('nli.jsonl', '{"p": {"a": "A man sleeps."}, "h": "Someone rests.", "y": "entail"}\n\n{"p": {"a": "x"}, "h": "y", "y": "contra"}\n');
    const cls = readJsonlExamples(file, { textField: 'p.a', textPairField: 'h', labelField: 'y' });
    expect(cls.examples).toEqual([
      { id: 'nli.jsonl:1', text: 'A man sleeps.', textPair: 'Someone rests.', label: 1, labelName: 'entail' },
      { id: 'nli.jsonl:3', text: 'x', textPair: 'y', label: 0, labelName: 'contra' },
    ]);
    const reg = readJsonlExamples(writeTempFile('r.jsonl', '{"t": "a", "s": 0.5}\n{"t": "b", "s": "2"}\n'), { textField: 't', labelField: 's', labelType: 'float' });
    expect(reg.examples.map((e) => e.score)).toEqual([0.5, 2]);
  });

  it('malformed records name file and line; skipInvalid counts them', () => {
    const file = writeTempFile('bad.jsonl', '{"t": "ok", "y": 1}\n{"t": 3, "y": 1}\n{oops\n');
    expect(pretrainErrorOf(() => readJsonlExamples(file, { textField: 't', labelField: 'y' })).message).toBe(`${file}:2: field "t" is number, expected a string`);
    const data = readJsonlExamples(file, { textField: 't', labelField: 'y', skipInvalid: true });
    expect(data.examples).toHaveLength(1);
    expect(data.summary.skipped).toBe(2);
    expect(data.summary.problems[1]).toMatch(new RegExp(`^${escape(file)}:3: invalid JSON`));
  });
});

describe('CoNLL-2003', () => {
  it('converts IOB1 to IOB2 (entities start with B-; B- between adjacent same-type entities stays)', () => {
    expect(toIob2(['I-ORG', 'O', 'I-PER', 'I-PER', 'B-PER', 'I-LOC', 'I-MISC'])).toEqual(['B-ORG', 'O', 'B-PER', 'I-PER', 'B-PER', 'B-LOC', 'B-MISC']);
    expect(toIob2(['B-ORG', 'I-ORG', 'O', 'B-PER'])).toEqual(['B-ORG', 'I-ORG', 'O', 'B-PER']);
  });

  it('reads documents and sentences from an IOB1 file (the original CoNLL-2003 tagging) and reports the scheme', () => {
    const file = writeTempFile(
      'eng.testa',
      '-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\ncall NN I-NP O\n.\t. O O\n\r\n-DOCSTART- -X- O O\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n',
    );
    const data = readConll(file);
    expect(data.detectedScheme).toBe('iob1');
    expect(data.documents).toBe(2);
    expect(data.examples.map((e) => [e.tokens, e.tags, e.document])).toEqual([
      [['EU', 'rejects', 'German', 'call', '.'], ['B-ORG', 'O', 'B-MISC', 'O', 'O'], 0],
      [['Peter', 'Blackburn'], ['B-PER', 'I-PER'], 1],
    ]);
    expect(data.labels!.names).toEqual(['O', 'B-MISC', 'B-ORG', 'B-PER', 'I-PER']);
    expect(data.examples[1].tagIds).toEqual([3, 4]);
    expect(readConll(file, { outputScheme: 'keep' }).examples[0].tags).toEqual(['I-ORG', 'O', 'I-MISC', 'O', 'O']);
  });

  it('plain tag columns (part-of-speech, chunks) are read as written, without IOB checks or conversion', () => {
    const file = writeTempFile('pos.conll', '-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n( ( O O\n\nPeter NNP I-NP I-PER\n');
    const pos = readConll(file, { tagColumn: 1, tagFormat: 'plain' });
    expect(pos.examples.map((e) => e.tags)).toEqual([['NNP', 'VBZ', '('], ['NNP']]);
    expect(pos.labels!.names).toEqual(['(', 'NNP', 'VBZ']);
    expect(pos.examples[0].tagIds).toEqual([1, 2, 0]);
    // The chunk column in IOB1 stays IOB1 when read as plain tags.
    expect(readConll(file, { tagColumn: 2, tagFormat: 'plain' }).examples[0].tags).toEqual(['I-NP', 'I-VP', 'O']);
    expect(pretrainErrorOf(() => readConll(file, { tagColumn: 1 })).message).toBe(`${file}:3: "NNP" is not an IOB tag (O, B-TYPE or I-TYPE)`);
  });

  it('a malformed token line names file and line; skipInvalid drops that sentence and counts it', () => {
    const file = writeTempFile('bad.conll', 'A NN O\nB NN B-PER\n\nC NN WRONG\nD NN O\n\nE NN O\n');
    expect(pretrainErrorOf(() => readConll(file)).message).toBe(`${file}:4: "WRONG" is not an IOB tag (O, B-TYPE or I-TYPE)`);
    const data = readConll(file, { skipInvalid: true });
    expect(data.examples.map((e) => e.tokens)).toEqual([['A', 'B'], ['E']]);
    expect(data.summary.skipped).toBe(1);
  });
});

describe('SQuAD v1.1', () => {
  it('reads the copied sample: one example per question with aligned answers', () => {
    const data = readSquad(path.join(fixtures, 'squad/train.sample.json'));
    expect(data.articles).toBe(1);
    expect(data.paragraphs).toBe(3);
    expect(data.examples).toHaveLength(25);
    const first = data.examples[0];
    expect(first).toMatchObject({ id: 'train-000-000-00', title: '2008_Sichuan_earthquake', question: 'In what year did the earthquake in Sichuan occur?', answers: [{ text: '2008', start: 4 }] });
    expect(first.context.slice(4, 8)).toBe('2008');
    expect(data.misalignedAnswers).toBe(0);
  });

  it('answer_start counts code points (Python indices) and is converted to UTF-16 offsets', () => {
    // In Python, '𪚥 is a character. It is rare.'.index('rare') == 24; in UTF-16 it is 25.
    const context = '𪚥 is a character. It is rare.';
    const file = writeTempFile('astral.json', JSON.stringify({ data: [{ title: 't', paragraphs: [{ context, qas: [{ id: 'q', question: 'Q?', answers: [{ text: 'rare', answer_start: 24 }] }] }] }] }));
    const data = readSquad(file);
    expect(data.examples[0].answers).toEqual([{ text: 'rare', start: 25 }]);
    expect(context.slice(25, 29)).toBe('rare');
    expect(data.misalignedAnswers).toBe(0);
  });

  it('structural problems name the JSON path', () => {
    const file = writeTempFile('bad.json', JSON.stringify({ data: [{ title: 't', paragraphs: [{ context: 'abc', qas: [{ id: 'q1', question: 'Q?', answers: [{ text: 'b' }] }] }] }] }));
    expect(pretrainErrorOf(() => readSquad(file)).message).toBe(`${file}: data[0].paragraphs[0].qas[0].answers[0].answer_start: expected an offset in the context, got undefined`);
    expect(readSquad(file, { skipInvalid: true }).summary).toMatchObject({ rows: 1, examples: 0, skipped: 1 });
    const notJson = writeTempFile('x.json', '{"data": [');
    expect(pretrainErrorOf(() => readSquad(notJson)).message).toMatch(/: invalid JSON/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
