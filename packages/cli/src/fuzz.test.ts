/**
 * Property-based fuzzing (fast-check) of the three loaders that read untrusted files: the safetensors
 * reader, the tokenizer.json loader and the experiment config loader. For every generated input the
 * outcome is a parse or a PretrainError naming the problem, never another exception, and memory stays
 * bounded. Inputs mix structure-aware generators (near-valid files get past the first check) with raw
 * bytes and mutations of valid files.
 */
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { PretrainError, Registry, parseSafetensors, resolveExperiment, serializeSafetensors } from '@pretrain/core';
import { fromTokenizerJSON } from '@pretrain/tokenizer';
import { registerBuiltins } from './builtins';
import { readConfigFile } from './config-file';
import { parseDataSettings, parseTrainerSettings } from './pipeline/settings';
import { suiteTempDir } from './test-utils/run-bin';

/** Runs `load`; an exception other than a PretrainError fails the property with its name and message. */
function parsesOrPretrainError(load: () => unknown): 'parsed' | 'rejected' {
  try {
    load();
    return 'parsed';
  } catch (error) {
    if (error instanceof PretrainError) return 'rejected';
    throw new Error(`not a PretrainError: ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
}

/** Each property records how many inputs parsed, so a generator that never gets past the first check is noticed. */
function tally(): { parsed: number; rejected: number; add(outcome: 'parsed' | 'rejected'): void } {
  return {
    parsed: 0,
    rejected: 0,
    add(outcome) {
      this[outcome]++;
    },
  };
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const startRss = rssMb();
afterAll(() => {
  // Thousands of hostile inputs must not leave the process holding much more than it started with.
  expect(rssMb() - startRss).toBeLessThan(512);
});

// ---------------------------------------------------------------------------------------------
// safetensors

const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL'] as const;
const dtypeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...DTYPES) },
  { weight: 1, arbitrary: fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', '', 'f32') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const dimArb = fc.oneof({ weight: 8, arbitrary: fc.nat(6) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, 1e9, 2 ** 53, 2 ** 60) });
const nameArb = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__metadata__', '__proto__', 'constructor', 'a', 'a'));

/** A file whose header is consistent (sizes, offsets) unless `breakage` changes something. */
const consistentSafetensors = fc
  .record({
    tensors: fc.uniqueArray(fc.record({ name: fc.string({ maxLength: 8 }), dtype: fc.constantFrom(...DTYPES), shape: fc.array(fc.nat(4), { maxLength: 3 }) }), { selector: (t) => t.name, maxLength: 5 }),
    metadata: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.integer())), { nil: undefined }),
    seed: fc.nat(255),
  })
  .map(({ tensors, metadata, seed }) => {
    const inputs: Record<string, { dtype: (typeof DTYPES)[number]; shape: number[]; data: number[] }> = {};
    for (const t of tensors) {
      if (t.name === '__metadata__') continue;
      const size = t.shape.reduce((a, b) => a * b, 1);
      inputs[t.name] = { dtype: t.dtype, shape: t.shape, data: Array.from({ length: size }, (_, i) => (seed + i) % 100) };
    }
    const valid = Buffer.from(serializeSafetensors(inputs, { format: 'pt' }));
    if (metadata === undefined) return valid;
    // Hand-made metadata (possibly non-string values) spliced into the header.
    const headerLength = Number(valid.readBigUInt64LE(0));
    const header = JSON.parse(valid.subarray(8, 8 + headerLength).toString('utf8'));
    return withHeader(JSON.stringify({ ...header, __metadata__: metadata }), valid.subarray(8 + headerLength));
  });

function withHeader(headerText: string, data: Uint8Array, claimedLength?: bigint): Buffer {
  const header = Buffer.from(headerText, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(claimedLength ?? BigInt(header.length));
  return Buffer.concat([prefix, header, data]);
}

const mutatedSafetensors = fc.tuple(consistentSafetensors, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.option(fc.nat(), { nil: undefined })).map(([bytes, flips, cut]) => {
  const out = Buffer.from(bytes);
  for (const [at, value] of flips) if (out.length > 0) out[at % out.length] = value;
  return cut === undefined || out.length === 0 ? out : out.subarray(0, cut % out.length);
});

const handWrittenHeader = fc
  .tuple(
    fc.array(fc.tuple(nameArb, fc.oneof({ weight: 4, arbitrary: fc.record({ dtype: dtypeArb, shape: fc.array(dimArb, { maxLength: 3 }), data_offsets: fc.array(fc.oneof(fc.nat(64), fc.constantFrom(-1, 1.5, 2 ** 60)), { maxLength: 3 }) }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) })), { maxLength: 5 }),
    fc.uint8Array({ maxLength: 96 }),
    fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }),
  )
  .map(([entries, data, claimed]) => {
    // Joined by hand so duplicate keys survive (JSON.stringify of an object would drop them).
    const text = `{${entries.map(([name, entry]) => `${JSON.stringify(name)}:${JSON.stringify(entry) ?? 'null'}`).join(',')}}`;
    return withHeader(text, data, claimed);
  });

const safetensorsInput = fc.oneof(consistentSafetensors, mutatedSafetensors, handWrittenHeader, fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)));

describe('fuzz: safetensors reader', () => {
  it('every input parses or is a PretrainError (2,000 inputs)', () => {
    const outcomes = tally();
    fc.assert(
      fc.property(safetensorsInput, (bytes) => {
        outcomes.add(parsesOrPretrainError(() => parseSafetensors(bytes, { source: 'fuzz.safetensors' })));
      }),
      { numRuns: 2000 },
    );
    expect(outcomes.parsed).toBeGreaterThan(100);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});

// ---------------------------------------------------------------------------------------------
// tokenizer.json

const SMALL_VOCAB = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4, a: 5, b: 6, ab: 7, '##b': 8, 'Ġa': 9 };
const VALID_TOKENIZER = {
  version: '1.0',
  added_tokens: [{ id: 0, content: '[PAD]', special: true }],
  normalizer: { type: 'BertNormalizer', lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
  decoder: { type: 'WordPiece', prefix: '##' },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', vocab: SMALL_VOCAB },
};

const anyJson = fc.jsonValue({ maxDepth: 2 });
const componentArb = (types: string[]) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ type: fc.oneof(fc.constantFrom(...types), fc.string({ maxLength: 6 })), pattern: fc.option(fc.oneof(fc.record({ Regex: fc.string({ maxLength: 8 }) }), fc.record({ String: fc.string({ maxLength: 4 }) }), anyJson), { nil: undefined }), behavior: fc.option(fc.oneof(fc.constantFrom('Isolated', 'Removed', 'MergedWithPrevious', 'Contiguous'), anyJson), { nil: undefined }), content: fc.option(anyJson, { nil: undefined }), prefix: fc.option(anyJson, { nil: undefined }), lowercase: fc.option(anyJson, { nil: undefined }) }, { requiredKeys: ['type'] }) },
    { weight: 1, arbitrary: anyJson },
  );

const tokenizerObject = fc.record(
  {
    added_tokens: fc.oneof(fc.array(fc.record({ id: fc.oneof(fc.nat(12), anyJson, fc.constantFrom(1e9, -1)), content: fc.oneof(fc.string({ maxLength: 5 }), anyJson), special: fc.boolean(), normalized: fc.option(anyJson, { nil: undefined }) }), { maxLength: 3 }), anyJson),
    normalizer: componentArb(['BertNormalizer', 'Lowercase', 'NFC', 'NFD', 'NFKC', 'NFKD', 'StripAccents', 'Sequence', 'Replace', 'Prepend', 'Strip']),
    pre_tokenizer: componentArb(['BertPreTokenizer', 'Whitespace', 'WhitespaceSplit', 'ByteLevel', 'Split', 'Punctuation', 'Metaspace', 'Digits', 'Sequence']),
    post_processor: componentArb(['BertProcessing', 'RobertaProcessing', 'TemplateProcessing', 'ByteLevel', 'Sequence']),
    decoder: componentArb(['WordPiece', 'ByteLevel', 'BPEDecoder', 'Metaspace', 'Sequence']),
    model: fc.oneof(
      { weight: 4, arbitrary: fc.record({ type: fc.oneof(fc.constantFrom('WordPiece', 'BPE', 'WordLevel'), fc.string({ maxLength: 5 })), unk_token: fc.option(fc.oneof(fc.constantFrom('[UNK]'), anyJson), { nil: undefined }), vocab: fc.oneof(fc.constant(SMALL_VOCAB), fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.nat(20), anyJson), { maxKeys: 6 }), anyJson), merges: fc.option(fc.oneof(fc.array(fc.oneof(fc.constantFrom('a b', 'Ġ a'), fc.string({ maxLength: 5 }), fc.tuple(fc.string({ maxLength: 2 }), fc.string({ maxLength: 2 })), anyJson), { maxLength: 4 }), anyJson), { nil: undefined }) }, { requiredKeys: ['type'] }) },
      { weight: 1, arbitrary: anyJson },
    ),
  },
  { requiredKeys: ['model'] },
);

/** A valid tokenizer.json with one part replaced, dropped or the text cut short. */
const mutatedTokenizer = fc.tuple(fc.constantFrom('added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model'), fc.option(anyJson, { nil: undefined }), fc.option(fc.nat(), { nil: undefined })).map(([key, value, cut]) => {
  const text = JSON.stringify({ ...VALID_TOKENIZER, [key]: value });
  return cut === undefined ? text : text.slice(0, cut % text.length);
});

const tokenizerInput = fc.oneof(tokenizerObject.map((o) => JSON.stringify(o)), mutatedTokenizer, fc.constant(JSON.stringify(VALID_TOKENIZER)), fc.json({ maxDepth: 3 }), fc.string({ maxLength: 40 }));

describe('fuzz: tokenizer.json loader', () => {
  it('every input loads (and encodes) or is a PretrainError (2,000 inputs)', () => {
    const outcomes = tally();
    fc.assert(
      fc.property(tokenizerInput, fc.string({ maxLength: 12 }), (json, text) => {
        outcomes.add(
          parsesOrPretrainError(() => {
            const tokenizer = fromTokenizerJSON(json);
            // A tokenizer that loads must also encode and decode, or fail with a PretrainError.
            tokenizer.decode(tokenizer.encode(text, 'b a').ids);
          }),
        );
      }),
      { numRuns: 2000 },
    );
    expect(outcomes.parsed).toBeGreaterThan(50);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});

// ---------------------------------------------------------------------------------------------
// experiment config

const registry = registerBuiltins(new Registry());
const pluginName = (known: string[]) => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.constantFrom('nope', 'pretrain-missing-plugin', '@nobody/none', '') }, { weight: 1, arbitrary: anyJson });
const optionsArb = (keys: string[]) => fc.oneof({ weight: 5, arbitrary: fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.integer({ min: -2, max: 64 }), fc.double({ noNaN: false }), fc.boolean(), fc.string({ maxLength: 4 }), anyJson), { maxKeys: 4 }) }, { weight: 1, arbitrary: anyJson });
const pluginRef = (known: string[], keys: string[]) => fc.oneof({ weight: 6, arbitrary: fc.record({ name: pluginName(known), options: optionsArb(keys), weight: fc.option(fc.oneof(fc.double(), anyJson), { nil: undefined }) }, { requiredKeys: ['name'] }) }, { weight: 1, arbitrary: anyJson });

const MODEL_KEYS = ['vocabSize', 'hiddenSize', 'numHiddenLayers', 'numAttentionHeads', 'intermediateSize', 'maxPositionEmbeddings', 'nEmbd', 'nLayer', 'nHead', 'nPositions', 'pretrained', 'hiddenAct'];
const configObject = fc.record({
  name: fc.option(anyJson, { nil: undefined }),
  seed: fc.option(fc.oneof(fc.integer(), anyJson), { nil: undefined }),
  model: pluginRef(['bert', 'gpt2'], MODEL_KEYS),
  objectives: fc.oneof(fc.array(pluginRef(['mlm', 'nsp', 'clm', 'sop'], ['maskProbability', 'buildExamples', 'maxLength']), { maxLength: 3 }), anyJson),
  head: fc.option(pluginRef(['sequence-classification', 'token-classification', 'question-answering'], ['numLabels', 'labels', 'dropout']), { nil: undefined }),
  corpus: fc.option(pluginRef(['text'], ['paths', 'validationFraction', 'layout', 'format']), { nil: undefined }),
  trainer: fc.option(optionsArb(['maxSteps', 'batchSize', 'learningRate', 'schedule', 'resume', 'epochs', 'warmupSteps', 'strategy', 'bogus']), { nil: undefined }),
  data: fc.option(fc.oneof(fc.record({ train: fc.oneof(fc.record({ path: fc.string({ maxLength: 6 }), format: fc.constantFrom('tsv', 'csv', 'jsonl', 'xml') }), anyJson), labels: fc.oneof(fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }), anyJson), limit: fc.oneof(fc.integer(), anyJson) }, { requiredKeys: [] }), anyJson), { nil: undefined }),
});

const VALID_CONFIG = {
  name: 'fuzz',
  model: { name: 'bert', options: { vocabSize: 100, hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 } },
  objectives: [{ name: 'mlm' }, { name: 'nsp' }],
  corpus: { name: 'text', options: { paths: ['corpus.txt'], validationFraction: 0.1 } },
  trainer: { maxSteps: 3, batchSize: 4 },
};

/** The valid config with one section replaced by a generated one (or dropped). */
const mutatedConfig = fc.tuple(fc.constantFrom(...(Object.keys(VALID_CONFIG) as (keyof typeof VALID_CONFIG)[]), 'head', 'data', 'seed'), configObject, fc.boolean()).map(([key, generated, drop]) => {
  const config: Record<string, unknown> = { ...VALID_CONFIG };
  if (drop) delete config[key];
  else config[key] = (generated as Record<string, unknown>)[key];
  return config;
});

const configDir = suiteTempDir('fuzz-config');

const configInput = fc.oneof(
  mutatedConfig.map((c) => ({ name: 'exp.json', text: JSON.stringify(c) })),
  mutatedConfig.map((c) => ({ name: 'exp.yaml', text: toYaml(c) })),
  configObject.map((c) => ({ name: 'exp.json', text: JSON.stringify(c) })),
  configObject.map((c) => ({ name: 'exp.yaml', text: toYaml(c) })),
  fc.string({ maxLength: 60 }).map((text) => ({ name: 'exp.yaml', text })),
  fc.stringMatching(/^[-:{}[\]&*!|>'"%@` \n#a-z0-9]{0,60}$/).map((text) => ({ name: 'exp.yaml', text })),
  fc.json({ maxDepth: 3 }).map((text) => ({ name: 'exp.json', text })),
);

/** What `pretrain <command> -c FILE` validates before any work starts. */
async function loadConfig(file: string): Promise<void> {
  const raw = readConfigFile(file);
  const { trainer, data, ...experiment } = raw;
  parseTrainerSettings(trainer, file);
  parseDataSettings(data, file);
  await resolveExperiment({ ...experiment, trainer: {}, data: data ?? undefined }, registry, { file, baseDir: configDir });
}

describe('fuzz: config loader', () => {
  it('every config file validates or is a PretrainError (1,500 inputs)', async () => {
    const outcomes = tally();
    await fc.assert(
      fc.asyncProperty(configInput, async ({ name, text }) => {
        const file = path.join(configDir, name);
        fs.writeFileSync(file, text);
        try {
          await loadConfig(file);
          outcomes.add('parsed');
        } catch (error) {
          if (!(error instanceof PretrainError)) throw new Error(`not a PretrainError: ${(error as Error)?.name}: ${(error as Error)?.message}`);
          outcomes.add('rejected');
        }
      }),
      { numRuns: 1500 },
    );
    expect(outcomes.parsed).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});
