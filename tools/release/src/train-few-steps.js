// Runs inside the temporary project, against the installed tarballs only: builds a token cache with
// one worker (it loads @pretrain/tokenizer/lite and @pretrain/core/lite through the export maps) and
// trains a tiny BERT with MLM.
const fs = require('fs');
const path = require('path');
const core = require('@pretrain/core');
const coreLite = require('@pretrain/core/lite');
const corpus = require('@pretrain/corpus');
const tokenizers = require('@pretrain/tokenizer');
const bert = require('@pretrain/model-bert');
const mlm = require('@pretrain/objective-mlm');
const { Trainer } = require('@pretrain/trainer');

const TEXT = [
  'The cat sat on the mat. The dog sat on the log. A bird sang in the tree.',
  'The sun rose over the hills. The river ran to the sea. A boat sailed on the river.',
  'The cat chased the bird. The dog chased the cat. The bird flew over the dog.',
  'Rain fell on the town. The people ran home. The town was quiet in the rain.',
];

function wordPieceTokenizer(texts) {
  const vocab = new Map();
  for (const token of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']) vocab.set(token, vocab.size);
  for (const word of texts.join(' ').toLowerCase().match(/[a-z]+|[^\sa-z]/g)) if (!vocab.has(word)) vocab.set(word, vocab.size);
  const model = new tokenizers.WordPiece(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 });
  return tokenizers.bertTokenizer(model);
}

/** The token cache built by a worker equals the ids this thread's tokenizer gives. */
async function tokenCache(tokenizer) {
  const dir = fs.mkdtempSync(path.join(__dirname, 'cache-'));
  fs.writeFileSync(path.join(dir, 'text.txt'), TEXT.join('\n\n'));
  const { manifest } = await corpus.buildTokenCache({ paths: [path.join(dir, 'text.txt')], cacheDir: path.join(dir, 'cache'), tokenizer, workers: 1, layout: 'paragraphs' });
  const cached = corpus.TokenizedCorpus.open(path.join(dir, 'cache'), { seed: 1 });
  let sameIds = true;
  let sentences = 0;
  const expected = new Map(TEXT.flatMap((text) => text.split(/(?<=\.)\s+/)).map((s) => [Array.from(tokenizer.encodeIds(s)).join(','), true]));
  for await (const doc of cached.documents()) for (const ids of doc.sentences) {
    sentences++;
    sameIds &&= expected.has(Array.from(ids).join(','));
  }
  cached.close();
  return { tokens: manifest.totals.tokens, sentences, sameIds, liteErrorsAreCoreErrors: new coreLite.PretrainError('x') instanceof core.PretrainError };
}

async function main() {
  await core.initBackend({ log: false });
  const registry = new core.Registry();
  for (const plugin of [...bert.pretrainPlugins, ...mlm.pretrainPlugins]) registry.register(plugin);
  const tokenizer = wordPieceTokenizer(TEXT);
  const cache = await tokenCache(tokenizer);
  const context = { baseDir: __dirname, seed: 1 };
  const model = registry.lookup('model', 'bert');
  const objective = registry.lookup('objective', 'mlm');
  const backbone = await model.create(model.options.parse({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 }), context);
  const masked = await objective.create(objective.options.parse({ buildExamples: true, maskProbability: 0.3 }), context);
  const documents = TEXT.map((text, i) => ({ id: `doc-${i}`, sentences: text.split(/(?<=\.)\s+/).map((s) => Int32Array.from(tokenizer.encode(s, null, { addSpecialTokens: false }).ids)) }));
  const trainer = new Trainer({
    backbone,
    objectives: [{ objective: masked }],
    tokenizer,
    seed: 1,
    options: { maxSteps: 12, batchSize: 4, maxLength: 24, learningRate: 3e-3, progress: 'none', schedule: 'constant' },
  });
  const result = await trainer.train({ train: { documents: async function* () { yield* documents; } } });
  process.stdout.write(`${JSON.stringify({ steps: result.step, losses: result.losses, resolved: require.resolve('@pretrain/core'), cache })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
