import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { PretrainError, type TextDocument } from '@pretrain/core';
import { TextCorpus, type TextCorpusOptions } from './text-corpus';
import { pretrainRejectionOf } from '../test-utils/errors';
import { tempDir, writeTempFile } from '../test-utils/temp';

async function read(options: TextCorpusOptions): Promise<{ docs: TextDocument[]; stats: ReturnType<ReturnType<TextCorpus['documents']>['stats']> }> {
  const stream = new TextCorpus({ shuffle: false, ...options }).documents();
  const docs: TextDocument[] = [];
  for await (const doc of stream) docs.push(doc);
  return { docs, stats: stream.stats() };
}

function readError(options: TextCorpusOptions): Promise<PretrainError> {
  return pretrainRejectionOf(read(options));
}

describe('bad input', () => {
  it('missing file: an error naming the path', () => {
    const missing = path.join(tempDir(), 'nope.txt');
    expect(() => new TextCorpus({ paths: [missing] })).toThrow(PretrainError);
    expect(() => new TextCorpus({ paths: [missing] })).toThrow(`${missing}: file not found`);
  });

  it('a file deleted after the corpus was set up (mid-run): one error naming it, no unhandled stream error', async () => {
    const file = writeTempFile('vanishing.txt', 'First sentence here. Second one.\n\nAnother document.');
    const corpus = new TextCorpus({ paths: [file], shuffle: false });
    fs.rmSync(file);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const documents = async () => {
        for await (const document of corpus.documents()) void document;
      };
      await expect(documents()).rejects.toThrow(`${file}: file not found`);
      // The stream the old code opened and abandoned failed on a later tick.
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it('glob or directory matching nothing: an error naming it', () => {
    const dir = tempDir();
    expect(() => new TextCorpus({ paths: [path.join(dir, '*.txt')] })).toThrow(/no files match this glob/);
    expect(() => new TextCorpus({ paths: [dir] })).toThrow(`${dir}: directory contains no files`);
  });

  const procMem = '/proc/self/mem';
  (fs.existsSync(procMem) ? it : it.skip)('unreadable file (read fails with EIO): an error naming the file, or skipped and counted', async () => {
    const error = await readError({ paths: [procMem] });
    expect(error.message).toMatch(/^\/proc\/self\/mem: cannot read file \(EIO\)/);
    expect(error.details.file).toBe(procMem);
    const { docs, stats } = await read({ paths: [procMem], skipInvalid: true });
    expect(docs).toEqual([]);
    expect(stats.skippedFiles).toBe(1);
  });

  (process.getuid?.() !== 0 ? it : it.skip)('unreadable file (no permission): an error naming the file', async () => {
    const file = writeTempFile('secret.txt', 'text');
    fs.chmodSync(file, 0o000);
    const error = await readError({ paths: [file] });
    expect(error.message).toBe(`${file}: permission denied (file is not readable)`);
  });

  it('binary file: rejected, or skipped and counted with skipInvalid', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), Buffer.from('IHDR')]);
    const file = writeTempFile('image.txt', png);
    const error = await readError({ paths: [file] });
    expect(error.message).toBe(`${file}: looks like a binary file (NUL bytes near the start), not text`);
    const good = writeTempFile('good.txt', 'Fine text.');
    const { docs, stats } = await read({ paths: [file, good], skipInvalid: true });
    expect(docs.map((d) => d.sentences)).toEqual([['Fine text.']]);
    expect(stats.skippedFiles).toBe(1);
    expect(stats.problems).toEqual([error.message]);
    const asDocuments = await read({ paths: [file, good], skipInvalid: true, layout: 'document' });
    expect(asDocuments.stats).toMatchObject({ skippedFiles: 1, emptyDocuments: 0, documents: 1 });
  });

  it('invalid UTF-8: replaced with U+FFFD and counted; a literal U+FFFD in the text is not counted', async () => {
    const file = writeTempFile('latin1.txt', Buffer.concat([Buffer.from('Caf'), Buffer.from([0xe9]), Buffer.from(' au lait. Bad '), Buffer.from([0xff, 0xfe]), Buffer.from(' bytes. Literal \uFFFD here.')]));
    const { docs, stats } = await read({ paths: [file] });
    expect(docs[0].sentences).toEqual(['Caf\uFFFD au lait.', 'Bad \uFFFD\uFFFD bytes.', 'Literal \uFFFD here.']);
    expect(stats.invalidUtf8).toBe(3);
  });

  it('BOM is dropped and CRLF line ends work like LF', async () => {
    const file = writeTempFile('windows.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('First doc.\r\nSame doc.\r\n\r\nSecond doc.\r\n')]));
    const { docs } = await read({ paths: [file], layout: 'sentences' });
    expect(docs.map((d) => d.sentences)).toEqual([['First doc.', 'Same doc.'], ['Second doc.']]);
  });

  it('empty documents are skipped and counted', async () => {
    const empty = writeTempFile('empty.txt', '');
    const blank = writeTempFile('blank.txt', '\n   \n\t\n');
    const short = writeTempFile('short.txt', 'ok\n\nA real sentence here.\n');
    const { docs, stats } = await read({ paths: [empty, blank, short], layout: 'document', minLineLength: 3 });
    expect(docs.map((d) => d.sentences)).toEqual([['A real sentence here.']]);
    expect(stats.emptyDocuments).toBe(2);
    expect(stats.shortLines).toBe(1);
    const jsonl = writeTempFile('empty.jsonl', '{"text": ""}\n{"text": "  \\n "}\n{"text": "Kept."}\n');
    const fromJsonl = await read({ paths: [jsonl], format: 'jsonl' });
    expect(fromJsonl.docs.map((d) => d.sentences)).toEqual([['Kept.']]);
    expect(fromJsonl.stats.emptyDocuments).toBe(2);
  });

  it('a 10 MB line is cut into bounded pieces without losing text; later lines keep their numbers', async () => {
    const words = 'lorem ipsum dolor sit amet '.repeat(Math.ceil((10 << 20) / 27)).slice(0, 10 << 20);
    const file = writeTempFile('huge.txt', `${words}\nnext line\n`);
    const { docs, stats } = await read({ paths: [file], layout: 'sentences' });
    const pieces = docs[0].sentences;
    expect(pieces.length).toBeGreaterThanOrEqual(10);
    expect(pieces.every((p) => p.length <= 1 << 20)).toBe(true);
    expect(pieces.slice(0, -1).join(' ')).toBe(words.trim());
    expect(pieces[pieces.length - 1]).toBe('next line');
    expect(stats.longLinesSplit).toBe(1);
  });

  it('a 10 MB line without spaces is cut at the limit', async () => {
    const file = writeTempFile('blob.txt', 'x'.repeat(10 << 20));
    const { docs } = await read({ paths: [file], layout: 'sentences', maxLineLength: 4 << 20 });
    expect(docs[0].sentences.map((s) => s.length)).toEqual([4 << 20, 4 << 20, 2 << 20]);
  });

  it('malformed JSONL row: an error naming file and line, or skipped and counted with skipInvalid', async () => {
    const file = writeTempFile('rows.jsonl', '{"text": "One."}\n\n{"text": 42}\n{"txt": "x"}\nnot json\n{"text": "Two."}\n');
    const error = await readError({ paths: [file], format: 'jsonl' });
    expect(error.message).toBe(`${file}:3: field "text" is number, expected a string`);
    expect(error.details).toMatchObject({ file, line: 3 });
    const { docs, stats } = await read({ paths: [file], format: 'jsonl', skipInvalid: true });
    expect(docs.map((d) => d.sentences)).toEqual([['One.'], ['Two.']]);
    expect(stats.skippedRecords).toBe(3);
    expect(stats.problems[1]).toBe(`${file}:4: record has no field "text"`);
    expect(stats.problems[2]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: invalid JSON`));
  });

  it('an over-long JSONL record is malformed, not silently cut', async () => {
    const file = writeTempFile('long.jsonl', `{"text": "${'a'.repeat(5000)}"}\n{"text": "ok"}\n`);
    const error = await readError({ paths: [file], format: 'jsonl', maxRecordLength: 1000 });
    expect(error.message).toBe(`${file}:1: line is longer than 1000 characters`);
    const { docs, stats } = await read({ paths: [file], format: 'jsonl', maxRecordLength: 1000, skipInvalid: true });
    expect(docs.map((d) => d.sentences)).toEqual([['ok']]);
    expect(stats.skippedRecords).toBe(1);
  });

  it('a 10 MB JSONL record is read whole', async () => {
    const text = 'Word '.repeat(2 << 20).trim();
    const file = writeTempFile('big.jsonl', `${JSON.stringify({ text })}\n`);
    const { docs } = await read({ paths: [file], format: 'jsonl', layout: 'sentences' });
    expect(docs[0].sentences).toEqual([text]);
  });

  it('corrupt gzip: an error naming the file', async () => {
    const gz = zlib.gzipSync(Buffer.from('Some text. '.repeat(1000)));
    const file = writeTempFile('cut.txt.gz', gz.subarray(0, gz.length >> 1));
    const error = await readError({ paths: [file] });
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (corrupt gzip data|cannot read file)`));
  });
});
