/**
 * A token cache is verified when training reads it: sizes and counts against the manifest, a CRC-32 per
 * shard file, ids against the vocabulary. Every error names the damaged file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, type TokenizedDocument } from '@pretrain/core';
import { WhitespaceTestTokenizer } from '../test-utils/whitespace-tokenizer';
import { buildTokenCache } from './build';
import { TokenizedCorpus, type TokenizedCorpusOptions } from './tokenized-corpus';
import { tempDir } from '../test-utils/temp';

const factory = { module: path.join(__dirname, '../test-utils/whitespace-tokenizer.js'), exportName: 'fromTokenizerJSON' };

async function readAll(cacheDir: string, options: TokenizedCorpusOptions = {}): Promise<TokenizedDocument[]> {
  const out: TokenizedDocument[] = [];
  for await (const document of TokenizedCorpus.open(cacheDir, { shuffle: false, ...options }).documents()) out.push(document);
  return out;
}

/** A fresh two-shard cache of small documents. */
async function buildCache(): Promise<string> {
  const corpusDir = tempDir();
  for (let f = 0; f < 2; f++) {
    fs.writeFileSync(path.join(corpusDir, `f${f}.txt`), Array.from({ length: 20 }, (_, d) => `File ${f} doc ${d}. Another sentence here.`).join('\n\n'));
  }
  const cacheDir = path.join(tempDir(), 'cache');
  await buildTokenCache({ paths: [corpusDir], cacheDir, tokenizer: new WhitespaceTestTokenizer(), tokenizerFactory: factory, layout: 'paragraphs', shardBytes: 400, workers: 0 });
  return cacheDir;
}

async function expectRejected(read: () => Promise<unknown>, file: string, message: RegExp): Promise<void> {
  const error = await read().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PretrainError);
  expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
  expect((error as Error).message).toMatch(message);
}

const manifestOf = (cacheDir: string) => JSON.parse(fs.readFileSync(path.join(cacheDir, 'manifest.json'), 'utf8'));

describe('token cache verification when read', () => {
  it('an intact cache reads, and records a CRC-32 per shard file', async () => {
    const cacheDir = await buildCache();
    const manifest = manifestOf(cacheDir);
    expect(manifest.shards.length).toBeGreaterThan(1);
    for (const shard of manifest.shards) {
      expect(Number.isInteger(shard.binCrc32)).toBe(true);
      expect(Number.isInteger(shard.idxCrc32)).toBe(true);
    }
    expect((await readAll(cacheDir)).length).toBe(manifest.totals.documents);
  });

  it('a lengthened shard is refused by size', async () => {
    const cacheDir = await buildCache();
    const bin = path.join(cacheDir, 'shard-00001.bin');
    fs.appendFileSync(bin, Buffer.from(new Int32Array([3, 4]).buffer));
    await expectRejected(() => readAll(cacheDir), bin, /token shard is \d+ bytes, the manifest says \d+ tokens .*rebuild the cache/);
  });

  it('in-range garbage ids are caught by the checksum', async () => {
    const cacheDir = await buildCache();
    const bin = path.join(cacheDir, 'shard-00000.bin');
    const ids = new Int32Array(new Uint8Array(fs.readFileSync(bin)).buffer);
    [ids[0], ids[1]] = [ids[1] === ids[0] ? ids[0] + 1 : ids[1], ids[0]];
    fs.writeFileSync(bin, Buffer.from(ids.buffer));
    await expectRejected(() => readAll(cacheDir), bin, /checksum mismatch \(CRC-32 \d+, manifest says \d+\): the ids are damaged/);
  });

  it('ids outside the tokenizer vocabulary are refused, naming the shard', async () => {
    const cacheDir = await buildCache();
    const bin = path.join(cacheDir, 'shard-00000.bin');
    const max = Math.max(...new Int32Array(new Uint8Array(fs.readFileSync(bin)).buffer));
    await expectRejected(() => readAll(cacheDir, { vocabSize: max }), bin, new RegExp(`token id ${max} at token \\d+ is outside the vocabulary \\(0\\.\\.${max - 1}\\)`));
  });

  it('a damaged index is refused by checksum; damaged manifest counts are named', async () => {
    const cacheDir = await buildCache();
    const idx = path.join(cacheDir, 'shard-00001.idx');
    const original = fs.readFileSync(idx);
    const damaged = Buffer.from(original);
    damaged.writeUInt32LE(0xfffff000, 16);
    fs.writeFileSync(idx, damaged);
    await expectRejected(() => readAll(cacheDir), idx, /checksum mismatch .*the index is damaged/);

    fs.writeFileSync(idx, original);
    const manifestFile = path.join(cacheDir, 'manifest.json');
    const manifest = manifestOf(cacheDir);
    manifest.shards[1].idxCrc32 = undefined;
    manifest.shards[1].documents += 1;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    await expectRejected(() => readAll(cacheDir), manifestFile, /shards\[1\]\.idxCrc32 must be a CRC-32/);
    manifest.shards[1].idxCrc32 = 1;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    await expectRejected(() => readAll(cacheDir), manifestFile, /totals\.documents is \d+ but the shards hold \d+ documents/);
    manifest.totals.documents += 1;
    manifest.shards[1].name = '../../etc/passwd';
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    await expectRejected(() => readAll(cacheDir), manifestFile, /shards\[1\]\.name must be shard-NNNNN/);
  });

  it('an index whose counts disagree with the manifest is named (even with a matching checksum)', async () => {
    const cacheDir = await buildCache();
    const manifestFile = path.join(cacheDir, 'manifest.json');
    const manifest = manifestOf(cacheDir);
    manifest.shards[0].sentences += 1;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    await expectRejected(() => readAll(cacheDir), path.join(cacheDir, 'shard-00000.idx'), /index holds \d+ documents \/ \d+ sentences, the manifest says \d+ \/ \d+/);
  });

  it('a cache written before checksums (version 1) is refused with a rebuild hint', async () => {
    const cacheDir = await buildCache();
    const manifestFile = path.join(cacheDir, 'manifest.json');
    fs.writeFileSync(manifestFile, JSON.stringify({ ...manifestOf(cacheDir), version: 1 }));
    await expectRejected(() => readAll(cacheDir), manifestFile, /version is 1, this Pretrain reads version 2 .*rebuild the cache/);
  });
});
