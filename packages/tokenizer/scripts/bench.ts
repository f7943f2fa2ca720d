/**
 * Benchmark: encodes the same ~10 MB of English text with ours, HF's Rust tokenizers (npm
 * `tokenizers`, encodeBatch on 1 thread) and @huggingface/tokenizers (pure JS), then trains
 * WordPiece and byte-level BPE vocabularies with ours and HF's Rust trainer. Prints MB/s and
 * ratios ours/peer; every peer runs in the same process as ours.
 *
 *   npm run bench -w @pretrain/tokenizer -- [--mb 10] [--part encode|train]
 *
 * Needs ../shared/data/corpus (English text); the tokenizer files come from fixtures/.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tokenizer, trainByteLevelBPE, trainWordPiece } from '../src/index';
import { arg, repoRoot } from './script-env';

const shared = path.join(repoRoot, '../shared/data/corpus');
const fixtures = path.join(repoRoot, 'fixtures/data/tokenizer');

/** ~`mb` MB of English lines: Gutenberg books, then WikiText-2. */
function corpusLines(mb: number): string[] {
  if (!fs.existsSync(shared)) throw new Error(`benchmark corpus not found at ${shared} (needs ../shared)`);
  const files = [...fs.readdirSync(path.join(shared, 'gutenberg')).filter((f) => f.endsWith('.txt') && f.startsWith('pg')).sort().map((f) => path.join(shared, 'gutenberg', f)), path.join(shared, 'wikitext-2-raw/wiki.valid.raw')];
  const lines: string[] = [];
  let bytes = 0;
  for (const file of files) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (line.trim().length === 0) continue;
      lines.push(line);
      bytes += Buffer.byteLength(line) + 1;
      if (bytes >= mb * 1e6) return lines;
    }
  }
  return lines;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function time(fn: () => unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function benchEncode(mb: number): Promise<void> {
  const hf = require('tokenizers');
  const hfjs = require('@huggingface/tokenizers');
  const lines = corpusLines(mb);
  const totalMB = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) / 1e6;
  const batches = chunks(lines, 1000);
  console.log(`encode: ${totalMB.toFixed(1)} MB, ${lines.length} lines, batches of 1000; HF native with RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS}`);
  for (const name of ['bert-base-uncased', 'gpt2']) {
    const file = path.join(fixtures, name, 'tokenizer.json');
    const json = fs.readFileSync(file, 'utf8');
    const ours = Tokenizer.fromJSON(json);
    const native = hf.Tokenizer.fromFile(file);
    const js = new hfjs.Tokenizer(JSON.parse(json), {});
    // Warm up all three (JIT, caches) on the first batch.
    ours.encodeBatch(batches[0]);
    await native.encodeBatch(batches[0]);
    batches[0].forEach((l) => js.encode(l));
    // Interleaved per batch (ours, HF native, HF-js), so load changes on a shared machine hit all three alike.
    let ourTokens = 0;
    let nativeTokens = 0;
    let oursS = 0;
    let nativeS = 0;
    let jsS = 0;
    for (const b of batches) {
      oursS += await time(() => {
        for (const e of ours.encodeBatch(b)) ourTokens += e.ids.length;
      });
      nativeS += await time(async () => {
        for (const e of await native.encodeBatch(b)) nativeTokens += e.getLength();
      });
      jsS += await time(() => {
        for (const l of b) js.encode(l);
      });
    }
    const mbs = (s: number) => (totalMB / s).toFixed(2);
    console.log(
      `${name.padEnd(18)} ours ${mbs(oursS)} MB/s | HF native ${mbs(nativeS)} MB/s | @huggingface/tokenizers ${mbs(jsS)} MB/s | ours/HF native ${(nativeS / oursS).toFixed(2)}x | ours/HF-js ${(jsS / oursS).toFixed(2)}x | tokens ours ${ourTokens} HF ${nativeTokens}`,
    );
  }
}

async function benchTrain(mb: number): Promise<void> {
  const hf = require('tokenizers');
  const lines = corpusLines(mb);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-bench-')), 'corpus.txt');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const totalMB = fs.statSync(file).size / 1e6;
  console.log(`train: ${totalMB.toFixed(1)} MB; HF native trains only with its defaults (30,000 tokens, no special tokens); ours uses ${Math.min(os.cpus().length, 8)} counting threads`);
  const hfWordPiece = await time(() => {
    const t = new hf.Tokenizer(hf.WordPiece.empty());
    t.setNormalizer(hf.bertNormalizer({ lowercase: true }));
    t.setPreTokenizer(hf.bertPreTokenizer());
    t.train([file]);
  });
  const wp8k = await time(() => trainWordPiece([file], { vocabSize: 8000 }));
  const wp30k = await time(() => trainWordPiece([file], { vocabSize: 30000, specialTokens: [] }));
  const hfBPE = await time(() => {
    const t = new hf.Tokenizer(hf.BPE.empty());
    t.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
    t.train([file]);
  });
  const bpe8k = await time(() => trainByteLevelBPE([file], { vocabSize: 8000 }));
  const bpe30k = await time(() => trainByteLevelBPE([file], { vocabSize: 30000, specialTokens: [], initialAlphabet: [] }));
  const s = (x: number) => `${x.toFixed(2)} s`;
  console.log(`WordPiece: HF native (30k) ${s(hfWordPiece)} | ours 8k ${s(wp8k)} (${(wp8k / hfWordPiece).toFixed(2)}x HF) | ours 30k ${s(wp30k)} (${(wp30k / hfWordPiece).toFixed(2)}x HF)`);
  console.log(`BPE:       HF native (30k) ${s(hfBPE)} | ours 8k ${s(bpe8k)} (${(bpe8k / hfBPE).toFixed(2)}x HF) | ours 30k ${s(bpe30k)} (${(bpe30k / hfBPE).toFixed(2)}x HF)`);
}

async function main(): Promise<void> {
  const mb = Number(arg('mb', '10'));
  const part = arg('part', 'all');
  // HF native must be single-threaded for encoding; its thread pool reads the env at start-up,
  // so encoding runs in its own process with RAYON_NUM_THREADS=1.
  if (part === 'encode' && process.env.RAYON_NUM_THREADS === '1') return benchEncode(mb);
  if (part === 'train') return benchTrain(mb);
  const run = (p: string, env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [process.argv[1], '--part', p, '--mb', String(mb)], { stdio: 'inherit', env: { ...process.env, ...env } });
  run('encode', { RAYON_NUM_THREADS: '1', TOKENIZERS_PARALLELISM: 'false' });
  if (part === 'all') run('train', {});
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
