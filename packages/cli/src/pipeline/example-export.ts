/**
 * Packed pre-training examples as JSON lines that HF `datasets` loads directly
 * (`load_dataset("json", data_files=...)`) and HF's data collators consume as they are: one example
 * per line with `input_ids`, `token_type_ids` (BERT builders), `attention_mask`, `special_tokens_mask` and the
 * example's labels under HF's names (`next_sentence_label`, `sentence_order_label`). The examples
 * are made by the run's own example builder, so packing and special tokens are exactly ours;
 * masking is left to the collator (DataCollatorForLanguageModeling masks dynamically, as we do).
 */
import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, Rng, writeFolderAtomic, writeJsonAtomic, type Example, type ExampleBuilder, type TokenizerPlugin } from '@pretrain/core';
import { TokenizedCorpus, type Split } from '@pretrain/corpus';

export const EXAMPLES_HEADER = 'export.json';
export const EXAMPLES_FORMAT = 'pretrain-jsonl';

export interface ExampleExportOptions {
  cacheDir: string;
  outDir: string;
  tokenizer: TokenizerPlugin;
  builder: ExampleBuilder;
  /** Names of the run's objectives (recorded in the header). */
  objectives: string[];
  maxLength: number;
  seed: number;
  validationFraction: number;
  force?: boolean;
}

export interface ExampleExportHeader {
  format: typeof EXAMPLES_FORMAT;
  version: 1;
  tokenizerHash: string;
  vocabSize: number;
  objectives: string[];
  maxLength: number;
  seed: number;
  validationFraction: number;
  splits: Partial<Record<Split, { file: string; examples: number; tokens: number }>>;
}

/** `nextSentenceLabel` → `next_sentence_label` (HF's argument names). */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** One example as the JSON object HF's collators read. */
export function exampleRecord(example: Example): Record<string, number[] | number> {
  const record: Record<string, number[] | number> = { input_ids: Array.from(example.inputIds) };
  // Only where the builder sets them: GPT-2 would add wte(token_type_ids) to its inputs for zeros too.
  if (example.tokenTypeIds) record.token_type_ids = Array.from(example.tokenTypeIds);
  record.attention_mask = new Array<number>(example.inputIds.length).fill(1);
  if (example.specialTokensMask) record.special_tokens_mask = Array.from(example.specialTokensMask);
  for (const [name, value] of Object.entries(example.labels ?? {})) record[snakeCase(name)] = value;
  return record;
}

/** Appends lines to a file through a string buffer (one write per ~1 MB). */
class LineWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private size = 0;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  write(line: string): void {
    this.pending.push(line, '\n');
    this.size += line.length + 1;
    if (this.size > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.pending.length > 0) fs.writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

/** Writes `train.jsonl` / `validation.jsonl` and `export.json` into `outDir`, all or nothing. */
export async function exportExamples(options: ExampleExportOptions): Promise<ExampleExportHeader> {
  const corpus = TokenizedCorpus.open(options.cacheDir, { validationFraction: options.validationFraction, tokenizerHash: options.tokenizer.hash(), shuffle: false });
  const header: ExampleExportHeader = {
    format: EXAMPLES_FORMAT,
    version: 1,
    tokenizerHash: corpus.manifest.tokenizerHash,
    vocabSize: options.tokenizer.getVocabSize(),
    objectives: options.objectives,
    maxLength: options.maxLength,
    seed: options.seed,
    validationFraction: options.validationFraction,
    splits: {},
  };
  try {
    await writeFolderAtomic(
      options.outDir,
      async (temp) => {
        for (const split of ['train', 'validation'] as Split[]) {
          const file = `${split}.jsonl`;
          const writer = new LineWriter(path.join(temp, file));
          const counts = { examples: 0, tokens: 0 };
          try {
            const context = { tokenizer: options.tokenizer, maxLength: options.maxLength, rng: new Rng(options.seed) };
            for await (const example of options.builder.build(corpus.documents({ split }), context)) {
              if (example.inputIds.length > options.maxLength) throw new PretrainError(`example ${counts.examples} of ${split} has ${example.inputIds.length} tokens, more than maxLength ${options.maxLength}`);
              writer.write(JSON.stringify(exampleRecord(example)));
              counts.examples += 1;
              counts.tokens += example.inputIds.length;
            }
          } finally {
            writer.close();
          }
          if (counts.examples > 0) header.splits[split] = { file, ...counts };
          else fs.rmSync(path.join(temp, file));
        }
        writeJsonAtomic(path.join(temp, EXAMPLES_HEADER), header);
      },
      { force: options.force },
    );
  } finally {
    corpus.close();
  }
  return header;
}
