/**
 * The README's examples, runnable from the repository: `node packages/tokenizer/scripts/run-ts.js packages/tokenizer/scripts/example.ts`
 */
import * as os from 'os';
import * as path from 'path';
import { Tokenizer, trainByteLevelBPE, trainWordPiece } from '../src/index';

const fixtures = path.resolve(__dirname.includes('pretrain-tokenizer-') ? process.cwd() : path.join(__dirname, '../../..'), 'fixtures/data/tokenizer');

async function main(): Promise<void> {
  // Load an HF tokenizer, encode a pair with truncation and padding.
  const bert = Tokenizer.fromFile(path.join(fixtures, 'bert-base-uncased/tokenizer.json'));
  bert.setTruncation({ maxLength: 16, strategy: 'longest_first', stride: 4 }).setPadding({ strategy: 'max_length', maxLength: 16 });
  const question = 'Where was the treaty signed?';
  const context = 'The treaty was signed in Paris in 1783 after long negotiations between the parties.';
  const enc = bert.encode(question, context);
  console.log(enc.tokens.join(' '));
  console.log('typeIds', enc.typeIds.join(''), 'attention', enc.attentionMask.join(''), 'overflowing windows', enc.overflowing.length);
  console.log('offset of token 1:', enc.offsets[1], JSON.stringify(question.slice(...enc.offsets[1])));
  // Decode.
  console.log(bert.decode(enc.ids, { skipSpecialTokens: true }));

  // Train from files.
  const corpus = [path.join(fixtures, 'train-sample.txt')];
  const wordPiece = await trainWordPiece(corpus, { vocabSize: 2000 });
  const bpe = await trainByteLevelBPE(corpus, { vocabSize: 2000 });
  const out = path.join(os.tmpdir(), 'example-wordpiece.json');
  wordPiece.save(out);
  console.log('WordPiece:', wordPiece.encode('It is a truth universally acknowledged').tokens.join(' '), `(saved ${out})`);
  console.log('BPE:', bpe.encode('It is a truth universally acknowledged').tokens.join(' '));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
