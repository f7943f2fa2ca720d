import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, type TokenizedDocument } from '@pretrain/core';
import { TextCorpus } from '../text/text-corpus';
import { tokenizeStream } from '../text/tokenize-stream';
import { WhitespaceIdsTestTokenizer, WhitespaceTestTokenizer } from '../test-utils/whitespace-tokenizer';
import { buildTokenCache, buildTokenCacheFor, type Parallelism, type TokenCacheOptions } from './build';
import { TokenizedCorpus } from './tokenized-corpus';
import { take } from '../test-utils/take';
import { tempDir } from '../test-utils/temp';

const jekyll = path.join(__dirname, '../../../../fixtures/data/corpus/gutenberg/pg43.txt');
const factory = { module: path.join(__dirname, '../test-utils/whitespace-tokenizer.js'), exportName: 'fromTokenizerJSON' };

/** A corpus directory: the Jekyll book plus small files, so there are several shards. */
function makeCorpus(): string {
  const dir = tempDir();
  fs.copyFileSync(jekyll, path.join(dir, 'jekyll.txt'));
  for (let f = 0; f < 6; f++) {
    fs.writeFileSync(path.join(dir, `small${f}.txt`), Array.from({ length: 30 }, (_, d) => `Small file ${f} doc ${d}. Another sentence here.`).join('\n\n'));
  }
  return dir;
}

function baseOptions(corpusDir: string, cacheDir: string, tokenizer = new WhitespaceTestTokenizer()): TokenCacheOptions {
  return { paths: [corpusDir], cacheDir, tokenizer, tokenizerFactory: factory, layout: 'paragraphs', stripGutenberg: true, shardBytes: 2000 };
}

/** A new corpus and a token cache built from it by the counting test tokenizer. */
async function buildFreshCache(workers: number) {
  const corpusDir = makeCorpus();
  const cacheDir = path.join(tempDir(), 'cache');
  const tokenizer = new WhitespaceTestTokenizer();
  const result = await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, tokenizer), workers });
  return { corpusDir, cacheDir, tokenizer, result };
}

describe('token cache', () => {
  it('worker-built shards hold exactly the tokenizer ids of every document and sentence', async () => {
    const { corpusDir, cacheDir, tokenizer, result } = await buildFreshCache(2);
    expect(result.rebuilt).toBe(true);
    expect(result.manifest.shards.length).toBeGreaterThan(1);

    const text = await take(new TextCorpus({ paths: [corpusDir], layout: 'paragraphs', stripGutenberg: true, shuffle: false }).documents());
    const cached = await take(TokenizedCorpus.open(cacheDir, { shuffle: false }).documents());
    expect(cached.map((d) => d.id)).toEqual(text.map((d) => d.id));
    const expected: TokenizedDocument[] = text.map((d) => ({ id: d.id, sentences: d.sentences.map((s) => Int32Array.from(tokenizer.encode(s).ids)) }));
    expect(cached).toEqual(expected);
    expect(result.manifest.totals.sentences).toBe(text.reduce((n, d) => n + d.sentences.length, 0));
  });

  it('is byte-identical whether built with 0, 1 or 2 workers, processes or threads', async () => {
    const corpusDir = makeCorpus();
    const builds: [number, Parallelism][] = [[0, 'processes'], [1, 'processes'], [2, 'processes'], [1, 'threads'], [2, 'threads']];
    const dirs = builds.map(() => path.join(tempDir(), 'cache'));
    for (const [i, [workers, parallelism]] of builds.entries()) await buildTokenCache({ ...baseOptions(corpusDir, dirs[i]), workers, parallelism });
    const files = fs.readdirSync(dirs[0]).filter((f) => /^shard-/.test(f)).sort();
    expect(files.length).toBeGreaterThan(2);
    for (const dir of dirs.slice(1)) {
      expect(fs.readdirSync(dir).filter((f) => /^shard-/.test(f)).sort()).toEqual(files);
      for (const file of files) expect(fs.readFileSync(path.join(dir, file)).equals(fs.readFileSync(path.join(dirs[0], file)))).toBe(true);
    }
  });

  it('tokenizes through encodeIds when the tokenizer has it, with the same shards as through encodeBatch', async () => {
    const corpusDir = makeCorpus();
    const reference = path.join(tempDir(), 'cache');
    await buildTokenCache({ ...baseOptions(corpusDir, reference), workers: 0 });
    const idsFactory = { ...factory, exportName: 'idsTokenizerFromJSON' };
    const builds: [number, Parallelism][] = [[0, 'threads'], [2, 'threads'], [2, 'processes']];
    for (const [workers, parallelism] of builds) {
      const tokenizer = new WhitespaceIdsTestTokenizer();
      const dir = path.join(tempDir(), 'cache');
      // encodeBatch throws on this tokenizer, so a build that went through it would fail.
      await buildTokenCache({ ...baseOptions(corpusDir, dir, tokenizer), tokenizerFactory: idsFactory, workers, parallelism });
      if (workers === 0) expect(tokenizer.encodeCalls).toBeGreaterThan(0);
      const files = fs.readdirSync(reference).filter((f) => /^shard-/.test(f)).sort();
      expect(fs.readdirSync(dir).filter((f) => /^shard-/.test(f)).sort()).toEqual(files);
      for (const file of files) expect(fs.readFileSync(path.join(dir, file)).equals(fs.readFileSync(path.join(reference, file)))).toBe(true);
    }
  });

  it('reuses an unchanged cache without tokenizing; rebuilds on a changed tokenizer or a touched source file', async () => {
    const { corpusDir, cacheDir, tokenizer, result: first } = await buildFreshCache(0);
    expect(first.rebuilt).toBe(true);
    const callsAfterBuild = tokenizer.encodeCalls;
    expect(callsAfterBuild).toBeGreaterThan(0);

    const again = await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, tokenizer), workers: 0 });
    expect(again).toMatchObject({ rebuilt: false, reason: 'up to date' });
    expect(tokenizer.encodeCalls).toBe(callsAfterBuild);

    const otherTokenizer = new WhitespaceTestTokenizer({ vocab: { the: 5 } });
    const changedTokenizer = await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, otherTokenizer), workers: 0 });
    expect(changedTokenizer).toMatchObject({ rebuilt: true, reason: 'tokenizer changed' });
    const firstDoc = await take(TokenizedCorpus.open(cacheDir, { shuffle: false }).documents(), 1);
    expect(Array.from(firstDoc[0].sentences[0])).toEqual(otherTokenizer.encode('The Strange Case Of Dr. Jekyll And Mr. Hyde').ids);

    const touched = path.join(corpusDir, 'small3.txt');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(touched, later, later);
    const afterTouch = await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, otherTokenizer), workers: 0 });
    expect(afterTouch.rebuilt).toBe(true);
    expect(afterTouch.reason).toBe(`source file modified: ${touched}`);

    fs.writeFileSync(path.join(corpusDir, 'added.txt'), 'A new file.');
    expect((await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, otherTokenizer), workers: 0 })).reason).toBe('source files added or removed');
    expect((await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, otherTokenizer), workers: 0, minLineLength: 3 })).reason).toBe('reading options changed');

    fs.truncateSync(path.join(cacheDir, 'shard-00000.bin'), 8);
    expect((await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, otherTokenizer), workers: 0, minLineLength: 3 })).reason).toBe('shard shard-00000 missing or truncated');
  });

  it('streams a split in a seeded order and resumes exactly from a saved state', async () => {
    const { corpusDir, cacheDir } = await buildFreshCache(0);
    const options = { validationFraction: 0.2, seed: 11 };
    const corpus = TokenizedCorpus.open(cacheDir, options);
    const full = await take(corpus.documents());
    const validation = await take(corpus.documents({ split: 'validation' }));
    expect(full.length + validation.length).toBe(corpus.documentCount);
    // The split agrees with the text stream's split (same ids, same hash).
    const textValidation = await take(new TextCorpus({ paths: [corpusDir], layout: 'paragraphs', stripGutenberg: true, validationFraction: 0.2, shuffle: false }).documents({ split: 'validation' }));
    expect(validation.map((d) => d.id).sort()).toEqual(textValidation.map((d) => d.id).sort());
    expect(full.map((d) => d.id)).not.toEqual([...full.map((d) => d.id)].sort());

    for (const n of [0, 1, 97]) {
      const first = TokenizedCorpus.open(cacheDir, options).documents();
      const seen = await take(first, n);
      const state = JSON.parse(JSON.stringify(first.getState()));
      const resumed = TokenizedCorpus.open(cacheDir, options).documents();
      resumed.setState(state);
      const next = await take(resumed, 25);
      expect([...seen, ...next]).toEqual(full.slice(0, n + 25));
    }
  });

  it('worker processes report their peak memory; threads report none', async () => {
    const corpusDir = makeCorpus();
    const processes = await buildTokenCache({ ...baseOptions(corpusDir, path.join(tempDir(), 'cache')), workers: 2, parallelism: 'processes' });
    expect(processes.workerProcesses).toHaveLength(2);
    // A Node process needs tens of MB resident; a made-up or zero number would fail this.
    for (const usage of processes.workerProcesses!) expect(usage.peakRssMb).toBeGreaterThan(20);
    const threads = await buildTokenCache({ ...baseOptions(corpusDir, path.join(tempDir(), 'cache')), workers: 2, parallelism: 'threads' });
    expect(threads.workerProcesses).toBeUndefined();
  });

  it('starts the workers before hashing the tokenizer when the rebuild is certain (no cache yet)', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'worker-loaded');
    const module = path.join(dir, 'marking-tokenizer.js');
    fs.writeFileSync(module, `const { fromTokenizerJSON } = require(${JSON.stringify(factory.module)});
exports.make = (json) => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); return fromTokenizerJSON(json); };`);
    /** Waits in hash() (this thread blocked, as a slow hash would) for a worker to load the tokenizer. */
    class WaitingTokenizer extends WhitespaceTestTokenizer {
      workerLoadedDuringHash: boolean | undefined;
      override hash(): string {
        const deadline = Date.now() + 30_000;
        while (!fs.existsSync(marker) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        this.workerLoadedDuringHash ??= fs.existsSync(marker);
        return super.hash();
      }
    }
    const tokenizer = new WaitingTokenizer();
    const result = await buildTokenCache({ ...baseOptions(makeCorpus(), path.join(dir, 'cache'), tokenizer), tokenizerFactory: { module, exportName: 'make' }, workers: 1 });
    expect(result.rebuilt).toBe(true);
    expect(tokenizer.workerLoadedDuringHash).toBe(true);
  });

  it('refuses an unknown parallelism', async () => {
    const build = buildTokenCache({ ...baseOptions(makeCorpus(), path.join(tempDir(), 'cache')), workers: 1, parallelism: 'fibers' as Parallelism });
    await expect(build).rejects.toThrow(/parallelism must be 'processes' or 'threads', got "fibers"/);
  });

  describe.each(['processes', 'threads'] as const)('worker failures (%s)', (parallelism) => {
    it('reports a malformed record found in a worker with its file and line, and ends every worker', async () => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"text": "fine"}\n{"text": broken\n');
      for (let f = 0; f < 3; f++) fs.writeFileSync(path.join(dir, `b${f}.jsonl`), '{"text": "more"}\n'.repeat(50));
      // A factory that records the pid of every worker that loads it, so the test can see them gone.
      const pids = path.join(tempDir(), 'pids.txt');
      const recording = path.join(tempDir(), 'recording-tokenizer.js');
      fs.writeFileSync(recording, `const fs = require('fs'); exports.make = (json) => { fs.appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n'); return require(${JSON.stringify(factory.module)}).fromTokenizerJSON(json); };`);
      const build = buildTokenCache({ paths: [dir], cacheDir: path.join(dir, 'cache'), tokenizer: new WhitespaceTestTokenizer(), tokenizerFactory: { module: recording, exportName: 'make' }, format: 'jsonl', shardBytes: 100, workers: 2, parallelism });
      await expect(build).rejects.toThrow(PretrainError);
      await expect(build).rejects.toThrow(`${path.join(dir, 'a.jsonl')}:2: invalid JSON`);
      expect(fs.existsSync(path.join(dir, 'cache/manifest.json'))).toBe(false);
      const workerPids = fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
      // The second worker may be ended before it has loaded the tokenizer.
      expect(workerPids.length).toBeGreaterThanOrEqual(1);
      if (parallelism === 'processes') {
        expect(workerPids.every((pid) => pid !== process.pid)).toBe(true);
        for (const pid of workerPids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
      } else {
        expect(workerPids.every((pid) => pid === process.pid)).toBe(true);
      }
    });

    it('a worker that runs out of heap fails with a hint, not a hang', async () => {
      const corpusDir = makeCorpus();
      const hungry = path.join(tempDir(), 'hungry-tokenizer.js');
      fs.writeFileSync(hungry, `const keep = []; exports.make = () => ({ encodeBatch() { for (;;) keep.push(new Array(1e6).fill(Math.random())); } });`);
      const build = buildTokenCache({ ...baseOptions(corpusDir, path.join(tempDir(), 'cache')), tokenizerFactory: { module: hungry, exportName: 'make' }, workers: 1, workerHeapMb: 32, parallelism });
      await expect(build).rejects.toThrow(/tokenizer worker crashed: .*raise workerHeapMb, now 32/);
    });

    it('a worker that dies mid-task rejects the build with its exit code', async () => {
      const corpusDir = makeCorpus();
      const dying = path.join(tempDir(), 'dying-tokenizer.js');
      fs.writeFileSync(dying, `exports.make = () => ({ encodeBatch() { process.exit(7); } });`);
      const build = buildTokenCache({ ...baseOptions(corpusDir, path.join(tempDir(), 'cache')), tokenizerFactory: { module: dying, exportName: 'make' }, workers: 2, parallelism });
      await expect(build).rejects.toThrow(/tokenizer worker (crashed: the worker process )?exited with code 7/);
    });

    it('explains a tokenizer factory that cannot be loaded', async () => {
      const corpusDir = makeCorpus();
      const build = buildTokenCache({ ...baseOptions(corpusDir, path.join(tempDir(), 'cache')), tokenizerFactory: { module: 'no-such-tokenizer-module', exportName: 'x' }, workers: 1, parallelism });
      await expect(build).rejects.toThrow(/cannot load module "no-such-tokenizer-module"/);
    });
  });

  it('tokenizeStream gives the same documents as the cache, and resumes through the source state', async () => {
    const corpusDir = makeCorpus();
    const tokenizer = new WhitespaceTestTokenizer();
    const options = { paths: [corpusDir], layout: 'paragraphs' as const, stripGutenberg: true, shuffleBuffer: 20 };
    const full = await take(tokenizeStream(new TextCorpus(options).documents({ seed: 4 }), tokenizer));
    const cacheDir = path.join(tempDir(), 'cache');
    await buildTokenCache({ ...baseOptions(corpusDir, cacheDir, tokenizer), workers: 0 });
    const cached = new Map((await take(TokenizedCorpus.open(cacheDir).documents())).map((d) => [d.id, d]));
    for (const doc of full) expect(doc).toEqual(cached.get(doc.id));
    const first = tokenizeStream(new TextCorpus(options).documents({ seed: 4 }), tokenizer);
    const seen = await take(first, 33);
    const resumed = tokenizeStream(new TextCorpus(options).documents({ seed: 4 }), tokenizer);
    resumed.setState(JSON.parse(JSON.stringify(first.getState())));
    expect([...seen, ...(await take(resumed))]).toEqual(full);
  });

  it('buildTokenCacheFor uses a TextCorpus\'s paths and reading options', async () => {
    const corpusDir = makeCorpus();
    const cacheDir = path.join(tempDir(), 'cache');
    const corpus = new TextCorpus({ paths: [corpusDir], layout: 'sentences', minLineLength: 10 });
    const result = await buildTokenCacheFor(corpus, { cacheDir, tokenizer: new WhitespaceTestTokenizer(), workers: 0 });
    expect(result.manifest.readOptions).toEqual(corpus.readOptions);
    const docs = await take(corpus.documents());
    expect(result.manifest.totals.documents).toBe(docs.length);
  });

  it('refuses to open a missing cache or one built by another tokenizer', async () => {
    expect(() => TokenizedCorpus.open(tempDir())).toThrow(/no token cache here/);
    const corpusDir = makeCorpus();
    const cacheDir = path.join(tempDir(), 'cache');
    await buildTokenCache({ ...baseOptions(corpusDir, cacheDir), workers: 0 });
    expect(() => TokenizedCorpus.open(cacheDir, { tokenizerHash: 'other' })).toThrow(/built with tokenizer/);
  });
});
