/**
 * Full parity run against HF's Rust tokenizers (npm `tokenizers`) over every line of the shared
 * corpora (../shared/data/corpus/**, SST-2, CoNLL-2003 sentences) for bert-base-uncased,
 * bert-base-cased (from vocab.txt, lowercasing off) and gpt2, plus MRPC and RTE sentence pairs
 * truncated (longest_first, stride) and padded at max lengths 32 and 128 with overflowing windows.
 * Compares ids, tokens, type ids, special-token masks, attention masks, word ids, sequence ids and
 * offsets (HF's code-point offsets converted to UTF-16 units).
 *
 *   npm run parity:full -w @pretrain/tokenizer        (exit code 1 on any mismatch)
 */
import * as fs from 'fs';
import * as path from 'path';
import { fromBertVocab, Tokenizer } from '../src/index';
import { diffEncodings, fromHF, hf, wellFormed } from '../src/test-utils/hf';

const repoRoot = path.resolve(process.cwd());
const shared = path.resolve(repoRoot, fs.existsSync(path.join(repoRoot, '../shared')) ? '../shared/data' : '../../../shared/data');

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.txt') || e.name.endsWith('.raw') ? [path.join(dir, e.name)] : []));
}

function singleTexts(): { source: string; texts: string[] }[] {
  const out: { source: string; texts: string[] }[] = [];
  for (const file of walk(path.join(shared, 'corpus')).filter((f) => !f.endsWith('LICENSE.txt'))) {
    out.push({ source: path.relative(shared, file), texts: fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0) });
  }
  for (const split of ['train', 'dev']) {
    const rows = fs.readFileSync(path.join(shared, `sentiment/sst2/${split}.tsv`), 'utf8').split('\n').slice(1).filter(Boolean);
    out.push({ source: `sst2/${split}`, texts: rows.map((r) => r.split('\t')[0]) });
  }
  for (const split of ['train', 'valid']) {
    const sentences: string[] = [];
    let words: string[] = [];
    for (const line of fs.readFileSync(path.join(shared, `ner/conll2003/${split}.txt`), 'utf8').split('\n')) {
      if (line.trim() === '' || line.startsWith('-DOCSTART-')) {
        if (words.length) sentences.push(words.join(' '));
        words = [];
      } else words.push(line.split(' ')[0]);
    }
    if (words.length) sentences.push(words.join(' '));
    out.push({ source: `conll2003/${split}`, texts: sentences });
  }
  return out;
}

function pairSets(): { source: string; pairs: [string, string][] }[] {
  const read = (file: string, a: number, b: number) =>
    fs
      .readFileSync(file, 'utf8')
      .replace(/^\ufeff/, '')
      .split('\n')
      .slice(1)
      .map((r) => r.split('\t'))
      .filter((r) => r.length > Math.max(a, b))
      .map((r): [string, string] => [r[a], r[b]]);
  return [
    { source: 'MRPC/train', pairs: read(path.join(shared, 'pairs/MRPC/train.tsv'), 3, 4) },
    { source: 'MRPC/dev', pairs: read(path.join(shared, 'pairs/MRPC/dev.tsv'), 3, 4) },
    { source: 'RTE/train', pairs: read(path.join(shared, 'pairs/RTE/train.tsv'), 1, 2) },
    { source: 'RTE/dev', pairs: read(path.join(shared, 'pairs/RTE/dev.tsv'), 1, 2) },
  ];
}

async function tokenizers(): Promise<{ name: string; ours: Tokenizer; theirs: any; pad: string }[]> {
  const cased = path.join(shared, 'vocab/bert-base-cased/vocab.txt');
  const casedHF = new hf.Tokenizer(await hf.WordPiece.fromFile(cased, { unkToken: '[UNK]' }));
  casedHF.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false }));
  casedHF.setPreTokenizer(hf.bertPreTokenizer());
  casedHF.setPostProcessor(hf.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', [['[CLS]', 101], ['[SEP]', 102]]));
  casedHF.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  const fromShared = (name: string) => path.join(shared, `tokenizers/${name}/tokenizer.json`);
  return [
    { name: 'bert-base-uncased', ours: Tokenizer.fromFile(fromShared('bert-base-uncased')), theirs: hf.Tokenizer.fromFile(fromShared('bert-base-uncased')), pad: '[PAD]' },
    { name: 'bert-base-cased', ours: fromBertVocab(cased, { lowercase: false }), theirs: casedHF, pad: '[PAD]' },
    { name: 'gpt2', ours: Tokenizer.fromFile(fromShared('gpt2')), theirs: hf.Tokenizer.fromFile(fromShared('gpt2')), pad: '<|endoftext|>' },
  ];
}

async function main(): Promise<void> {
  if (!fs.existsSync(shared)) throw new Error(`../shared/data not found (looked at ${shared})`);
  let mismatches = 0;
  const report = (what: string, d: string | null) => {
    if (!d) return;
    mismatches++;
    if (mismatches <= 20) console.log(`MISMATCH ${what}: ${d.slice(0, 600)}`);
  };
  const singles = singleTexts();
  const pairs = pairSets();
  for (const t of await tokenizers()) {
    for (const { source, texts } of singles) {
      let checked = 0;
      for (let i = 0; i < texts.length; i += 2000) {
        const batch = texts.slice(i, i + 2000);
        const ours = t.ours.encodeBatch(batch);
        const theirs = await t.theirs.encodeBatch(batch);
        batch.forEach((text, k) => report(`${t.name} ${source} line ${i + k + 1}`, diffEncodings(ours[k], fromHF(theirs[k], [wellFormed(text)]))));
        checked += batch.length;
      }
      console.log(`${t.name.padEnd(18)} ${source.padEnd(40)} ${checked} lines`);
    }
    const padId = t.ours.tokenToId(t.pad)!;
    for (const maxLength of [32, 128]) {
      const stride = maxLength === 32 ? 4 : 16;
      t.ours.setTruncation({ maxLength, stride }).setPadding({ strategy: 'max_length', maxLength, padId, padToken: t.pad });
      t.theirs.setTruncation(maxLength, { stride });
      t.theirs.setPadding({ maxLength, padId, padToken: t.pad });
      for (const { source, pairs: list } of pairs) {
        for (let i = 0; i < list.length; i += 500) {
          const batch = list.slice(i, i + 500);
          const ours = t.ours.encodeBatch(batch);
          const theirs = await Promise.all(batch.map(([a, b]) => t.theirs.encode(a, b)));
          batch.forEach(([a, b], k) => report(`${t.name} ${source} pair ${i + k + 1} @${maxLength}`, diffEncodings(ours[k], fromHF(theirs[k], [wellFormed(a), wellFormed(b)]))));
        }
        console.log(`${t.name.padEnd(18)} ${`${source} pairs @${maxLength}`.padEnd(40)} ${list.length} pairs`);
      }
      t.ours.setTruncation(null).setPadding(null);
      t.theirs.disableTruncation();
      t.theirs.disablePadding();
    }
  }
  console.log(mismatches === 0 ? 'PARITY OK: no mismatches' : `PARITY FAILED: ${mismatches} mismatches`);
  process.exit(mismatches === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
