#!/usr/bin/env node
/**
 * Corpus → token shards benchmark.
 *   npm run bench -w @pretrain/corpus              (builds dist first)
 *   node scripts/bench.js [--runs 2] [--tokenizer real|test] [--no-small] [--scale-copies 4] [--no-big] [--big-mb 1024] [--big-tokenizer real|test] [--parallelism processes|threads]
 *
 * 1. Throughput (MB of source text per second) building the token cache of the shared Gutenberg
 *    corpus with 1 and with 2 workers, as worker threads and as worker processes, same tokenizer;
 *    prints the 2/1 ratios and threads vs processes, how long the calling thread was busy (it only
 *    plans and writes shards; workers read, segment and tokenize), and checks that all caches are
 *    byte-identical.
 *    What bounds the ratio on this machine: controls in 1 vs 2 worker threads (a Map-lookup loop, a
 *    pure-arithmetic loop, the real tokenizer alone on the books' pre-segmented sentences, cold and
 *    warm) and, on 2 cores, the ceiling 2 / (cores a 1-worker build keeps busy).
 *    Then the same 1 vs 2 threads on the books repeated --scale-copies times (default 4; 0 skips it):
 *    each worker pays a fixed start-up and warm-up (module load, tokenizer, JIT, word cache), which
 *    on the 11 MB set is a large share of the work, so the ratio on a bigger corpus shows how the
 *    tokenizing itself scales. The copies repeat the text, so caches warm sooner than on new text.
 * 2. Peak RSS while building the cache of a ~1 GB corpus made by repeating the Gutenberg books
 *    (hard links) with 2 workers (--parallelism, default threads like the build): the kernel VmHWM of this
 *    process (which includes worker threads) plus the peak RSS each worker process reported; then
 *    while streaming every tokenized document back.
 * The tokenizer is the real @pretrain/tokenizer (bert-base-uncased tokenizer.json) when it loads,
 * else the whitespace test double; the output says which.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { buildTokenCache, TokenizedCorpus, readDocuments, resolveSources, documentReadOptions, emptyStats } = require('../dist');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

const shared = path.resolve(__dirname, '../../../../shared/data');
const gutenberg = path.join(shared, 'corpus/gutenberg');
if (!fs.existsSync(gutenberg)) {
  console.error(`bench: ${gutenberg} is absent; this benchmark needs the shared Gutenberg corpus`);
  process.exit(1);
}
const books = fs.readdirSync(gutenberg).filter((f) => /^pg\d+\.txt$/.test(f)).map((f) => path.join(gutenberg, f));
const bookReadOptions = { layout: 'document', stripGutenberg: true };

/** The workspace's tokenizer package, loaded by name: this dev script borrows it; the corpus package itself never imports it. */
const REAL_TOKENIZER = '@pretrain/tokenizer';

function loadTokenizer(wanted) {
  if (wanted === 'real') {
    try {
      const json = fs.readFileSync(path.join(shared, 'tokenizers/bert-base-uncased/tokenizer.json'), 'utf8');
      const tokenizer = require(REAL_TOKENIZER).fromTokenizerJSON(json);
      // No factory: workers load the default one (@pretrain/tokenizer/lite), as users' builds do.
      return { tokenizer, factory: undefined, real: true, label: '@pretrain/tokenizer fromTokenizerJSON(bert-base-uncased tokenizer.json)' };
    } catch (error) {
      console.warn(`bench: real tokenizer unavailable (${error.message.split('\n')[0]}); using the whitespace test double`);
    }
  }
  const module = path.join(__dirname, '../src/test-utils/whitespace-tokenizer.js');
  return { tokenizer: require(module).fromTokenizerJSON('{}'), factory: { module, exportName: 'fromTokenizerJSON' }, label: 'whitespace test double (src/test-utils/whitespace-tokenizer.js)' };
}

function peakRssMb() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

/** Samples RSS (this process and its worker threads) every 50 ms. */
function rssSampler() {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss) / 1048576) };
}

/**
 * Wall time and CPU time of one cache build. process.cpuUsage() covers every thread of the
 * process (worker threads included), so cpuSeconds / seconds is how many cores the build kept
 * busy: on a shared, oversubscribed machine the 2-worker speedup is capped by the cores it gets.
 */
async function timeBuild(paths, workers, parallelism, tok, cacheDir) {
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const eluStart = performance.eventLoopUtilization();
  const result = await buildTokenCache({ paths, cacheDir, tokenizer: tok.tokenizer, tokenizerFactory: tok.factory, workers, parallelism, force: true, ...bookReadOptions });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const mainBusySeconds = performance.eventLoopUtilization(eluStart).active / 1e3;
  // Worker processes report their own CPU time (process.cpuUsage() covers only this process's threads).
  const childCpu = (result.workerProcesses ?? []).reduce((sum, w) => sum + w.cpuSeconds, 0);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 + childCpu, mainBusySeconds, result };
}

/** Shard files and index of two caches, byte for byte (the manifest differs only in nothing: same corpus, same options). */
function sameCache(dirA, dirB) {
  const names = (dir) => fs.readdirSync(dir).filter((f) => /^shard-|^manifest/.test(f)).sort();
  const [a, b] = [names(dirA), names(dirB)];
  return a.length === b.length && a.every((name, i) => name === b[i] && fs.readFileSync(path.join(dirA, name)).equals(fs.readFileSync(path.join(dirB, name))));
}

async function main() {
  const tok = loadTokenizer(value('--tokenizer', 'real'));
  const bytes = books.reduce((s, f) => s + fs.statSync(f).size, 0);
  const mb = bytes / 1048576;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'corpus-bench-'));
  console.log(`tokenizer: ${tok.label}`);
  console.log(`cpus: ${os.availableParallelism()}  node: ${process.version}`);
  if (!flag('--no-small')) await throughput(tok, mb, tmp);
  if (!flag('--no-big')) await bigCorpus(tmp);
  fs.rmSync(tmp, { recursive: true, force: true });
}

const MODES = ['threads', 'processes'];

async function throughput(tok, mb, tmp) {
  console.log(`\n[1] throughput on ${books.length} Gutenberg books, ${mb.toFixed(1)} MB (layout document, Gutenberg stripping)`);
  const runs = Number(value('--runs', '2'));
  const best = {};
  const all = {};
  const busyCores = {};
  for (let run = 0; run < runs; run++) {
    for (const parallelism of MODES) {
      for (const workers of [1, 2]) {
        const key = `${parallelism}-${workers}`;
        const { seconds, cpuSeconds, mainBusySeconds, result } = await timeBuild(books, workers, parallelism, tok, path.join(tmp, `small-${key}`));
        best[key] = Math.min(best[key] ?? Infinity, seconds);
        (all[key] ??= []).push(seconds);
        if (workers === 1) (busyCores[parallelism] ??= []).push(cpuSeconds / seconds);
        console.log(`  run ${run + 1}, ${parallelism}, ${workers} worker(s): ${seconds.toFixed(2)} s  ${(mb / seconds).toFixed(2)} MB/s  CPU ${cpuSeconds.toFixed(1)} s = ${(cpuSeconds / seconds).toFixed(2)} cores busy, main thread busy ${mainBusySeconds.toFixed(2)} s  (${result.manifest.totals.tokens} tokens, ${result.manifest.shards.length} shards)`);
      }
    }
    const dirs = Object.keys(best).map((key) => path.join(tmp, `small-${key}`));
    console.log(`  run ${run + 1}: threads/processes x 1/2-worker caches byte-identical: ${dirs.every((dir) => sameCache(dirs[0], dir)) ? 'yes' : 'NO'}`);
  }
  console.log(`  load average now: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores (other processes share them)`);
  const control = await machineScaling(MAP_LOOP, 8000);
  console.log(`  control: a CPU-bound JS loop (Map lookups) in 1 vs 2 worker threads, same total work: ${control.one} ms vs ${control.two} ms = ${(control.one / control.two).toFixed(2)}x (what this machine gives two threads now)`);
  const arithmetic = await machineScaling(ARITHMETIC_LOOP, 5e8);
  console.log(`  control: a pure-arithmetic loop (no memory traffic) in 1 vs 2 worker threads: ${arithmetic.one} ms vs ${arithmetic.two} ms = ${(arithmetic.one / arithmetic.two).toFixed(2)}x (are the two CPUs real cores?)`);
  if (tok.real) {
    for (const warmUp of [0, 3000]) {
      const t = await tokenizingScaling(tok, warmUp);
      const how = warmUp ? `after each thread first tokenized ${warmUp} sentences untimed (JIT and word cache warm)` : 'from a cold start';
      console.log(`  control: the same tokenizer on the books' sentences (segmented beforehand), timed inside 1 vs 2 threads ${how} (no module loading, files or shards), median of 3: ${t.one.toFixed(0)} ms vs ${t.two.toFixed(0)} ms = ${t.ratio.toFixed(2)}x (runs ${t.ratios.map((r) => r.toFixed(2)).join(' ')})`);
    }
  }
  for (const parallelism of MODES) {
    const busy = median(busyCores[parallelism]);
    // With 2 cores, 2 workers share them with every helper thread: time >= total CPU / 2.
    const bound = os.availableParallelism() <= 2 ? `, so on ${os.availableParallelism()} cores 2 workers doing the same total work could be at most ${(os.availableParallelism() / busy).toFixed(2)}x faster` : ' (no ceiling from this on more than 2 cores: the helpers run beside the workers)';
    console.log(`  ceiling (${parallelism}): 1 worker kept ${busy.toFixed(2)} cores busy (median; the worker, V8's GC and compiler threads, the calling thread)${bound}`);
  }
  for (const parallelism of MODES) {
    const [one, two] = [best[`${parallelism}-1`], best[`${parallelism}-2`]];
    console.log(`  best ${parallelism}: 1 worker ${(mb / one).toFixed(2)} MB/s, 2 workers ${(mb / two).toFixed(2)} MB/s, speedup 2/1 = ${(one / two).toFixed(2)}x (target >= 1.7x)`);
  }
  if (runs > 1) {
    for (const parallelism of MODES) {
      const [ones, twos] = [all[`${parallelism}-1`], all[`${parallelism}-2`]];
      const rate = (times) => `median ${(mb / median(times)).toFixed(2)} MB/s (${(mb / Math.max(...times)).toFixed(2)}–${(mb / Math.min(...times)).toFixed(2)})`;
      const ratios = ones.map((one, i) => one / twos[i]);
      console.log(`  ${runs} runs ${parallelism}: 1 worker ${rate(ones)}, 2 workers ${rate(twos)}; speedup 2/1 per run ${ratios.map((r) => r.toFixed(2)).join(' ')}, median ${median(ratios).toFixed(2)}x`);
    }
  }
  console.log(`  processes vs threads (best times, threads/processes): 1 worker ${(best['threads-1'] / best['processes-1']).toFixed(2)}x, 2 workers ${(best['threads-2'] / best['processes-2']).toFixed(2)}x; 2 processes vs 1 thread ${(best['threads-1'] / best['processes-2']).toFixed(2)}x`);
  const copies = Number(value('--scale-copies', '4'));
  if (copies > 0) await scaling(tok, copies, tmp);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** 1 vs 2 worker threads on the books repeated `copies` times (hard links): the fixed per-worker costs weigh less. */
async function scaling(tok, copies, tmp) {
  const dir = path.join(tmp, `scale-${copies}`);
  fs.mkdirSync(dir);
  let bytes = 0;
  for (let copy = 0; copy < copies; copy++) {
    for (const book of books) {
      fs.linkSync(book, path.join(dir, `c${copy}-${path.basename(book)}`));
      bytes += fs.statSync(book).size;
    }
  }
  const mb = bytes / 1048576;
  const seconds = {};
  for (const workers of [1, 2]) {
    const { seconds: s, cpuSeconds } = await timeBuild([dir], workers, 'threads', tok, path.join(tmp, `scale-cache-${workers}`));
    seconds[workers] = s;
    console.log(`  ${copies} copies (${mb.toFixed(1)} MB), threads, ${workers} worker(s): ${s.toFixed(2)} s  ${(mb / s).toFixed(2)} MB/s  CPU ${cpuSeconds.toFixed(1)} s = ${(cpuSeconds / s).toFixed(2)} cores busy`);
  }
  console.log(`  ${copies} copies: speedup 2/1 = ${(seconds[1] / seconds[2]).toFixed(2)}x (repeated text: word caches warm sooner than on new text)`);
}

/** String building + Map lookups, like tokenizing. */
const MAP_LOOP = `const { parentPort, workerData } = require('worker_threads');
  const m = new Map(); for (let i = 0; i < 30000; i++) m.set('w' + ((i * 7919) % 100003), i);
  let s = 0; for (let n = 0; n < workerData.n; n++) for (let i = 0; i < 1000; i++) s += m.get('w' + (((n * 31 + i) * 7919) % 100003)) || 0;
  parentPort.postMessage(s);`;

/** Integer arithmetic in registers: no allocation, no memory traffic. */
const ARITHMETIC_LOOP = `const { parentPort, workerData } = require('worker_threads');
  let a = 1, b = 2, c = 3, d = 4;
  for (let i = 0; i < workerData.n; i++) { a = (a + i) | 0; b = (b ^ a) | 0; c = (c + 0x9e37) | 0; d = (d ^ c) | 0; a ^= d >>> 3; c ^= b >>> 5; }
  parentPort.postMessage(a ^ b ^ c ^ d);`;

/** The same CPU-bound work in one worker thread and split over two. */
async function machineScaling(code, work) {
  const { Worker } = require('worker_threads');
  const run = (threads, total) => new Promise((resolve, reject) => {
    const started = Date.now();
    let done = 0;
    for (let t = 0; t < threads; t++) {
      const worker = new Worker(code, { eval: true, workerData: { n: total / threads } });
      worker.on('error', reject);
      worker.on('message', () => ++done === threads && resolve(Date.now() - started));
    }
  });
  await run(2, work / 4);
  return { one: await run(1, work), two: await run(2, work) };
}

/**
 * The tokenizing stage alone: the books' sentences (read and segmented here first) tokenized by
 * the real tokenizer in 1 thread, then split over 2, each thread timing only its own loop. Shows how
 * the tokenizer's own work scales on this machine now, without start-up, files or shard writing;
 * with `warmUp`, each thread first tokenizes that many sentences untimed, so what the two threads
 * would each repeat (JIT compilation, filling their own word caches) is left out.
 */
async function tokenizingScaling(tok, warmUp) {
  const { Worker } = require('worker_threads');
  const readOptions = documentReadOptions(bookReadOptions);
  const sentences = [];
  for (const file of resolveSources(books)) for await (const doc of readDocuments(file, readOptions, emptyStats())) sentences.push(...doc.sentences);
  const code = `const { parentPort, workerData } = require('worker_threads');
    const tokenizer = require(workerData.lite).fromTokenizerJSON(workerData.json);
    for (const sentence of workerData.warmUp) tokenizer.encodeIds(sentence);
    const started = performance.now();
    let tokens = 0;
    for (const sentence of workerData.sentences) tokens += tokenizer.encodeIds(sentence).length;
    parentPort.postMessage(performance.now() - started);`;
  const json = tok.tokenizer.toJSON();
  const lite = require.resolve(`${REAL_TOKENIZER}/lite`);
  const run = (threads) => Promise.all(Array.from({ length: threads }, (_, t) => new Promise((resolve, reject) => {
    const part = sentences.filter((_, i) => i % threads === t);
    const worker = new Worker(code, { eval: true, workerData: { lite, json, sentences: part, warmUp: sentences.slice(0, warmUp) } });
    worker.on('error', reject);
    worker.on('message', resolve);
  }))).then((times) => Math.max(...times));
  const ones = [];
  const twos = [];
  for (let r = 0; r < 3; r++) {
    ones.push(await run(1));
    twos.push(await run(2));
  }
  const ratios = ones.map((one, i) => one / twos[i]);
  return { one: median(ones), two: median(twos), ratio: median(ratios), ratios };
}

async function bigCorpus(tmp) {
  {
    const targetMb = Number(value('--big-mb', '1024'));
    const bigDir = path.join(tmp, 'big');
    fs.mkdirSync(bigDir);
    let total = 0;
    for (let copy = 0; total < targetMb * 1048576; copy++) {
      for (const book of books) {
        fs.linkSync(book, path.join(bigDir, `c${String(copy).padStart(4, '0')}-${path.basename(book)}`));
        total += fs.statSync(book).size;
      }
    }
    const bigTok = loadTokenizer(value('--big-tokenizer', value('--tokenizer', 'real')));
    const parallelism = value('--parallelism', 'threads');
    console.log(`\n[2] ${(total / 1048576).toFixed(0)} MB corpus (${fs.readdirSync(bigDir).length} hard-linked copies of the books), 2 workers (${parallelism}), tokenizer: ${bigTok.label}`);
    const baseline = process.memoryUsage().rss / 1048576;
    const sampler = rssSampler();
    const { seconds, cpuSeconds, result } = await timeBuild([bigDir], 2, parallelism, bigTok, path.join(tmp, 'big-cache'));
    const peakBuild = sampler.stop();
    const mainPeak = peakRssMb();
    const children = (result.workerProcesses ?? []).map((w) => w.peakRssMb);
    console.log(`  build: ${seconds.toFixed(1)} s, ${(total / 1048576 / seconds).toFixed(2)} MB/s, CPU ${cpuSeconds.toFixed(0)} s (${(cpuSeconds / seconds).toFixed(2)} cores busy), ${result.manifest.totals.tokens} tokens in ${result.manifest.shards.length} shards`);
    const childText = children.length > 0 ? ` + worker processes ${children.map((c) => c.toFixed(0)).join(' + ')} MB` : ' (worker threads included)';
    console.log(`  peak RSS while building (${parallelism}): total ${(mainPeak + children.reduce((a, b) => a + b, 0)).toFixed(0)} MB = this process VmHWM ${mainPeak.toFixed(0)} MB${childText} (sum of peaks; this process sampled ${peakBuild.toFixed(0)} MB, before: ${baseline.toFixed(0)} MB; target < 500 MB)`);
    const readSampler = rssSampler();
    const corpus = TokenizedCorpus.open(path.join(tmp, 'big-cache'), { seed: 1 });
    let documents = 0;
    let tokens = 0;
    const readStart = process.hrtime.bigint();
    for await (const doc of corpus.documents()) {
      documents++;
      for (const s of doc.sentences) tokens += s.length;
    }
    corpus.close();
    const readSeconds = Number(process.hrtime.bigint() - readStart) / 1e9;
    console.log(`  streamed back ${documents} documents / ${tokens} tokens in shuffled order in ${readSeconds.toFixed(1)} s; peak RSS while reading ${readSampler.stop().toFixed(0)} MB, VmHWM ${peakRssMb().toFixed(0)} MB`);
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
