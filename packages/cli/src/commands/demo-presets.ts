/** Demo budgets. Plain data: printed into the report and config.json as-is. */
export interface DemoPreset {
  name: string;
  kind: 'bert' | 'gpt';
  seed: number;
  modelLabel: string;
  books: string[];
  vocabSize: number;
  corpus: { name: string; options: Record<string, unknown> };
  model: { name: string; options: Record<string, unknown> };
  objectives: { name: string; options: Record<string, unknown> }[];
  pretrain: Record<string, unknown> & { maxSteps: number; maxWallClockSeconds: number };
  /** Held-out documents for the before/after pre-training loss. */
  evalDocuments: number;
  /** Labeled-set sizes; null = all training sentences. */
  sizes: (number | null)[];
  finetune: { epochs: number; minSteps: number; maxSteps: number; batchSize: number };
  /** Options of the sequence-classification head both arms fine-tune with. */
  classifier: Record<string, unknown>;
  finetuneTrainer: Record<string, unknown>;
  samples?: { prompt: string; count: number; maxNewTokens: number };
}

const BOOKS = ['pg11.txt', 'pg84.txt', 'pg1342.txt', 'pg1661.txt', 'pg74.txt', 'pg2701.txt'];

const BERT_BASE: DemoPreset = {
  name: 'quick',
  kind: 'bert',
  seed: 42,
  modelLabel: 'a small BERT (2 layers, hidden 128, 2 heads; Google\'s "BERT-tiny" shape)',
  books: BOOKS,
  // 2,000 tokens and 32-token examples: within minutes the MLM loss gets past the unigram plateau
  // (5,000 tokens / 64 at 2e-3 stayed on it, and its weights fine-tuned worse than random ones).
  vocabSize: 2000,
  corpus: { name: 'text', options: { stripGutenberg: true, validationFraction: 0.02 } },
  model: { name: 'bert', options: { hiddenSize: 128, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 512, maxPositionEmbeddings: 128 } },
  objectives: [
    { name: 'mlm', options: {} },
    { name: 'nsp', options: {} },
  ],
  pretrain: { maxSteps: 5000, maxWallClockSeconds: 270, batchSize: 32, maxLength: 32, learningRate: 1e-3, warmupSteps: 100, schedule: 'constant', logEverySteps: 5, saveEachEpoch: false },
  evalDocuments: 40,
  sizes: [100, 300, 1000, null],
  finetune: { epochs: 4, minSteps: 40, maxSteps: 100, batchSize: 32 },
  // Mean over tokens, not BERT's pooler: a 2-layer model fine-tuned for 40-100 steps cannot re-learn
  // where [CLS] attends (pooler: 0.54 vs 0.63 at 300 examples, 0.66 vs 0.75 at 2,400, 5,000-step weights).
  classifier: { pooling: 'mean' },
  finetuneTrainer: { learningRate: 1e-3, warmupSteps: 10, maxLength: 64, logEverySteps: 5, progress: 'none' },
};

export const PRESETS: Record<string, DemoPreset> = {
  quick: BERT_BASE,
  full: {
    ...BERT_BASE,
    name: 'full',
    // Same model and fine-tuning as quick: only the pre-training budget differs (steps, not wall-clock, so runs compare across machines).
    pretrain: { ...BERT_BASE.pretrain, maxSteps: 5000, maxWallClockSeconds: 2 * 60 * 60 },
  },
  smoke: {
    ...BERT_BASE,
    name: 'smoke',
    modelLabel: 'a tiny BERT (2 layers, hidden 32)',
    books: ['pg11.txt'],
    vocabSize: 1000,
    model: { name: 'bert', options: { hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 } },
    pretrain: { maxSteps: 8, maxWallClockSeconds: 60, batchSize: 8, maxLength: 32, learningRate: 1e-3, logEverySteps: 1 },
    evalDocuments: 4,
    sizes: [100, null],
    finetune: { epochs: 1, minSteps: 3, maxSteps: 4, batchSize: 8 },
    finetuneTrainer: { learningRate: 1e-3, maxLength: 32, logEverySteps: 1 },
  },
  gpt: {
    ...BERT_BASE,
    name: 'gpt',
    kind: 'gpt',
    modelLabel: 'a small GPT (4 layers, hidden 128, 4 heads)',
    books: [],
    vocabSize: 2000,
    corpus: { name: 'text', options: { validationFraction: 0.02 } },
    model: { name: 'gpt2', options: { nEmbd: 128, nLayer: 4, nHead: 4, nPositions: 128 } },
    objectives: [{ name: 'clm', options: {} }],
    pretrain: { maxSteps: 3000, maxWallClockSeconds: 360, batchSize: 16, maxLength: 64, learningRate: 2e-3, warmupSteps: 30, logEverySteps: 5 },
    sizes: [],
    samples: { prompt: 'ROMEO:', count: 3, maxNewTokens: 60 },
  },
};
