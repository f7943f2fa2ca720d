import * as fs from 'fs';
import * as path from 'path';
import { BackbonePlugin, ConfigError, CorpusSourcePlugin, TaskKind, PluginRef, PretrainError, TokenizerPlugin, TrainerCallbackPlugin, defaultRegistry, initBackend, parseWithPath, pluginRefSchema, z } from '@pretrain/core';
import { TextCorpus, TokenizedCorpus, buildTokenCacheFor } from '@pretrain/corpus';
import { loadTokenizer } from '@pretrain/tokenizer';
import { registerBuiltins } from '../builtins';
import { CONFIG_OPTIONS, Command, CommandContext, numberOption, stringOption } from '../command';
import { applyOverrides, readConfigFile } from '../config-file';
import { InterruptedError } from '../interrupt';
import { ReportChart, lossSeriesFromMetrics, readMetrics, writeReport } from '../report';
import { ProgressBar } from '../progress';
import { RunDir } from '../run-dir';
import { tokenizedDocuments } from '../pipeline/batches';
import { Experiment, backendOptionsOf, createBackboneFor, createPlugin, loadExperiment } from '../pipeline/experiment';
import { decideLabels, loadTaskSplits } from '../pipeline/task-data';
import { defaultStride } from '../pipeline/task-encode';
import { TASK_METRICS, TaskSettings, formatMetrics, prepareRows, runTask, metricGreaterIsBetter } from '../pipeline/task-run';
import { didYouMean } from '../pipeline/suggest';
import { checkVocabularyFits } from '@pretrain/trainer';
import { PLUGINS_FILE } from '../pipeline/checkpoint';
import { loadHfBackbone } from '../pipeline/hf-folder';
import { restoreCheckpoint } from '../pipeline/restore';
import { trainTokenizer, TokenizerType } from '../pipeline/tokenizers';
import { runPretraining, wasInterrupted } from '../pipeline/train';
import { environment, formatTable, print } from './shared';

const TOKENIZER_OPTION = {
  tokenizer: { type: 'string' as const, short: 't', valueName: 'FILE', description: 'tokenizer.json or vocab.txt, or a folder holding tokenizer.json, vocab.txt or vocab.json + merges.txt; overrides the config tokenizer' },
};

/** The tokenizer: --tokenizer FILE, else the config's tokenizer plugin. */
export async function tokenizerFor(context: CommandContext, experiment: Pick<Experiment, 'resolved' | 'baseDir' | 'config'>): Promise<TokenizerPlugin> {
  const file = stringOption(context.options, 'tokenizer');
  if (file) return loadTokenizer(path.resolve(context.io.cwd, file));
  if (!experiment.resolved.tokenizer) throw new ConfigError(['tokenizer: required (a tokenizer plugin, or pass --tokenizer FILE)']);
  return createPlugin(experiment.resolved.tokenizer, experiment);
}

/** report.html for a single run: the trainer's loss curve (and evaluations) from metrics.jsonl. */
function writeRunReport(runDir: RunDir, title: string, notes: string[], config: unknown): string {
  const records = readMetrics(runDir.metricsFile);
  return writeReport(
    runDir.dir,
    {
      title,
      createdAt: new Date().toISOString(),
      notes,
      charts: [{ id: 'loss', title: 'Loss (train, and eval on the validation data)', xLabel: 'step', yLabel: 'loss', series: lossSeriesFromMetrics(records) }, ...evalMetricCharts(records)],
      tables: [],
      config,
    },
    (file, text) => runDir.writeText(path.basename(file), text),
  );
}

/** One chart of the validation metrics (accuracy, f1, pearson, entity_f1, exact_match...) when evaluations ran. */
function evalMetricCharts(records: ReturnType<typeof readMetrics>): ReportChart[] {
  const evals = records.filter((r) => r.type === 'eval' && typeof r.step === 'number');
  const skip = new Set(['type', 'step', 'epoch', 'time', 'isBest', 'loss', 'perplexity', 'mse']);
  const keys = [...new Set(evals.flatMap((r) => Object.keys(r)))].filter((k) => !skip.has(k) && evals.some((r) => typeof r[k] === 'number'));
  if (keys.length === 0) return [];
  const series = keys.map((key) => ({ label: key, points: evals.filter((r) => typeof r[key] === 'number' && Number.isFinite(r[key] as number)).map((r) => ({ x: r.step as number, y: r[key] as number })) }));
  return [{ id: 'validation', title: 'Validation metrics', xLabel: 'step', yLabel: 'value', series }];
}

function formatMetric(metrics: Record<string, number> | undefined, key: string): string {
  const value = metrics?.[key];
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(4);
}

export const pretrainCommand: Command = {
  path: ['pretrain'],
  summary: 'pre-train a backbone with objectives (MLM + NSP, CLM, ...) on a corpus',
  details: `
Reads config sections: model, objectives, tokenizer (or --tokenizer), corpus, trainer.
Writes to the run folder: config.json (resolved), metrics.jsonl, checkpoint-<step>/ (resumable:
trainer.resume=true), checkpoint/ (final model, HF layout: config.json, model.safetensors,
tokenizer.json), report.html. Ctrl-C stops after the current step and writes a checkpoint.
Example: pretrain pretrain -c docs/examples/bert-mini.yaml --set trainer.maxSteps=200
With --token-cache DIR (written by \`pretrain corpus prepare\`) the token ids are read from the cache
instead of tokenizing the corpus every epoch; the cache must match the tokenizer.`,
  options: {
    ...CONFIG_OPTIONS,
    ...TOKENIZER_OPTION,
    'token-cache': { type: 'string', valueName: 'DIR', description: 'read token ids from this cache (see corpus prepare)' },
  },
  async run(context) {
    const experiment = await loadExperiment(context, 'pretrain');
    const { resolved, runDir } = experiment;
    if (resolved.objectives.length === 0) throw new ConfigError(['objectives: at least one pre-training objective is required (e.g. [{ name: mlm }, { name: nsp }])'], experiment.file);
    if (!resolved.corpus) throw new ConfigError(['corpus: required for pre-training (e.g. { name: text, options: { paths: [books/] } })'], experiment.file);
    const tokenizer = await tokenizerFor(context, experiment);
    const corpus = await createPlugin(resolved.corpus, experiment);
    const { backbone, options: modelOptions } = await createBackboneFor(experiment, tokenizer);
    const objectives = [];
    for (const o of resolved.objectives) objectives.push({ plugin: await createPlugin(o, experiment), weight: o.weight });
    const run = await runPretraining(
      {
        backbone,
        objectives,
        tokenizer,
        corpus,
        options: experiment.trainer,
        seed: experiment.config.seed,
        finalDir: runDir.path('checkpoint'),
        refs: { model: { name: resolved.model.definition.name, options: modelOptions } },
        tokenCache: tokenCacheOption(context, resolved.corpus.options),
      },
      { ...environment(context), callbacks: await createCallbacks(experiment) },
    );
    const lossLine = `held-out loss ${formatMetric(run.evalBefore, 'loss')} → ${formatMetric(run.evalAfter, 'loss')}`;
    print(context, `pre-training: ${run.result.step} steps in ${(run.elapsedMs / 1000).toFixed(1)} s (${run.result.reason}); ${lossLine}`);
    print(context, `checkpoint: ${run.finalDir}`);
    writeRunReport(runDir, `Pre-training: ${experiment.config.name ?? 'run'}`, [lossLine, `stopped: ${run.result.reason}`], readConfig(runDir));
    if (wasInterrupted(run.result)) throw new InterruptedError(run.result.lastCheckpoint ?? run.finalDir);
  },
};

/** Tokenizes a text corpus once into shards on worker threads (or reuses an up-to-date cache). */
async function buildCache(context: CommandContext, corpus: TextCorpus, tokenizer: TokenizerPlugin, cacheDir: string): Promise<string> {
  const started = Date.now();
  const cache = await buildTokenCacheFor(corpus, { cacheDir, tokenizer });
  const action = cache.rebuilt ? `built in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'up to date, reused';
  print(context, `token cache ${action}: ${cache.cacheDir} (${cache.manifest.shards.length} shards, ${cache.manifest.totals.tokens} tokens)`);
  return cache.cacheDir;
}

/** --token-cache, with the corpus's validation fraction so the cache splits documents as the corpus does. */
function tokenCacheOption(context: CommandContext, corpusOptions: unknown): { dir: string; validationFraction: number } | undefined {
  const dir = stringOption(context.options, 'token-cache');
  if (!dir) return undefined;
  const fraction = (corpusOptions as { validationFraction?: unknown } | undefined)?.validationFraction;
  return { dir: path.resolve(context.io.cwd, dir), validationFraction: typeof fraction === 'number' ? fraction : 0 };
}

/** The config's `callbacks` section: trainer callback plugins (built-in or third-party packages). */
async function createCallbacks(experiment: Experiment): Promise<TrainerCallbackPlugin[]> {
  const callbacks: TrainerCallbackPlugin[] = [];
  for (const callback of experiment.resolved.callbacks) callbacks.push(await createPlugin(callback, experiment));
  return callbacks;
}

function readConfig(runDir: RunDir): unknown {
  return JSON.parse(fs.readFileSync(runDir.path('config.json'), 'utf8'));
}

export const finetuneCommand: Command = {
  path: ['finetune'],
  summary: 'fine-tune a (pre-trained) backbone with a task head on labeled data',
  details: `
Reads config sections: model, head, data (train / validation / test files), trainer. The head is the task:
sequence-classification (one text or a pair), regression (scores), token-classification (CoNLL columns),
question-answering (SQuAD JSON); see docs/guides/finetune-your-data.md. The label list (data.labels, else
head.options.labels, else the data's labels) is printed at start and saved as the checkpoint's id2label.
Validation data is evaluated every trainer.evalEverySteps and at epoch ends (metricForBest picks best/).
--from loads a pre-training checkpoint (its tokenizer too): a run's checkpoint/ folder, or an HF BERT / GPT-2
folder trained anywhere (config.json, model.safetensors or sharded model-*.safetensors + index, tokenizer.json;
pickle pytorch_model.bin is refused with how to convert it). Without --from the model starts from random init.
Writes the run folder like pretrain; checkpoint/ is the fine-tuned model (HF Bert{ForSequenceClassification,
ForTokenClassification,ForQuestionAnswering}).
Example: pretrain finetune -c docs/guides/finetune/sst2.yaml --from runs/bert/checkpoint`,
  options: {
    ...CONFIG_OPTIONS,
    ...TOKENIZER_OPTION,
    from: { type: 'string', valueName: 'DIR', description: 'initialise the backbone from this checkpoint or HF model folder' },
  },
  async run(context) {
    const experiment = await loadExperiment(context, 'finetune');
    const { resolved, runDir } = experiment;
    if (!resolved.head) throw new ConfigError(['head: required for fine-tuning (e.g. { name: sequence-classification, options: { numLabels: 2 } })'], experiment.file);
    const from = stringOption(context.options, 'from');
    const fromDir = from ? path.resolve(context.io.cwd, from) : undefined;
    let backbone: BackbonePlugin;
    let tokenizer: TokenizerPlugin;
    let modelRef: PluginRef;
    if (fromDir && !fs.existsSync(path.join(fromDir, PLUGINS_FILE))) {
      // An HF folder trained anywhere (run_mlm.py, run_clm.py, `pretrain export`).
      const given = stringOption(context.options, 'tokenizer') ? await tokenizerFor(context, experiment) : undefined;
      const hf = await loadHfBackbone(fromDir, { seed: experiment.config.seed, log: context.log, tokenizer: given });
      backbone = hf.backbone;
      modelRef = hf.modelRef;
      tokenizer = hf.tokenizer;
    } else if (fromDir) {
      const restored = await restoreCheckpoint(fromDir, { withHead: false, log: context.log });
      backbone = restored.backbone;
      modelRef = restored.refs.model;
      tokenizer = stringOption(context.options, 'tokenizer') ? await tokenizerFor(context, experiment) : restored.tokenizer;
    } else {
      tokenizer = await tokenizerFor(context, experiment);
      const created = await createBackboneFor(experiment, tokenizer);
      backbone = created.backbone;
      modelRef = { name: resolved.model.definition.name, options: created.options };
    }
    const probe = await createPlugin(resolved.head, experiment).catch(() => undefined);
    const task = probe?.task ?? taskOfHeadName(resolved.head.definition.name);
    const splits = loadTaskSplits(task, experiment.data, experiment.baseDir, experiment.config.seed, { needTrain: true, log: context.log });
    const rawHead = ((experiment.raw.head as { options?: Record<string, unknown> } | undefined)?.options ?? {}) as { numLabels?: number; labels?: string[] };
    let headOptions = resolved.head.options as Record<string, unknown>;
    let labels: string[] | undefined;
    if ((task === 'sequence-regression' || task === 'question-answering') && experiment.data.labels) {
      throw new ConfigError([`data.labels: ${task} has no label list (only sequence-classification and token-classification do)`], experiment.file);
    }
    if (task === 'sequence-classification' || task === 'token-classification') {
      const decision = decideLabels(task, { train: splits.train, ...(splits.heldOut ? {} : { validation: splits.validation }), test: splits.test }, { dataLabels: experiment.data.labels, headLabels: rawHead.labels, numLabels: rawHead.numLabels });
      labels = decision.labels;
      print(context, `labels: ${labels.map((l, id) => `${id}=${JSON.stringify(l)}`).join(' ')}${decision.source === 'data' ? ' (sorted distinct values of the data; set data.labels to fix them)' : ` (from ${decision.source})`}`);
      for (const note of decision.notes) context.log(`note: ${note}`);
      headOptions = { ...headOptions, numLabels: labels.length, labels };
    }
    const head = await resolved.head.definition.create(parseWithPath(resolved.head.definition.options as z.ZodType<unknown>, headOptions, 'head.options', experiment.file) as never, { baseDir: experiment.baseDir, seed: experiment.config.seed });
    checkVocabularyFitsConfig(backbone, tokenizer);
    checkMetricForBest(task, experiment.trainer.metricForBest);
    const settings: TaskSettings = {
      task,
      labels,
      maxLength: Math.min(experiment.trainer.maxLength, backbone.info.maxPositions),
      ...(task === 'question-answering' ? { stride: experiment.data.stride ?? defaultStride(experiment.trainer.maxLength), nBest: experiment.data.nBest, maxAnswerLength: experiment.data.maxAnswerLength } : {}),
    };
    const train = prepareRows(settings, tokenizer, splits.train, true);
    const validation = prepareRows(settings, tokenizer, splits.validation, true);
    const rowsWord = task === 'token-classification' ? 'sentences' : task === 'question-answering' ? 'questions' : 'examples';
    context.log(`${task}: ${splits.train.length} training ${rowsWord}${train.examples.length !== splits.train.length ? ` (${train.examples.length} windows)` : ''}, ${splits.validation.length} validation${splits.heldOut ? ` (held out of data.train, validationFraction ${experiment.data.validationFraction})` : ''}`);
    const run = await runTask(
      {
        backbone,
        head,
        tokenizer,
        train,
        validation,
        // mse is an error: lower is better (the trainer's default rule only knows loss and perplexity).
        options: { ...experiment.trainer, greaterIsBetter: metricGreaterIsBetter(experiment.trainer.metricForBest, experiment.trainer.greaterIsBetter) },
        seed: experiment.config.seed,
        finalDir: runDir.path('checkpoint'),
        refs: { model: modelRef, head: { name: resolved.head.definition.name, options: headOptions }, ...(labels ? { labels } : {}), task: settings },
      },
      { ...environment(context), callbacks: await createCallbacks(experiment) },
    );
    const { loss, ...taskValues } = run.validation;
    const metricsLine = task === 'sequence-classification' && Number.isFinite(taskValues.accuracy) ? `validation accuracy ${taskValues.accuracy.toFixed(4)} (${validation.rows} examples)` : `validation ${formatMetrics(taskValues)} (${validation.rows} ${rowsWord})`;
    print(context, `fine-tuning: ${run.result.step} steps on ${splits.train.length} ${rowsWord}; ${metricsLine}${run.result.stoppedEarly ? ` (stopped: ${run.result.reason})` : ''}`);
    if (Object.keys(taskValues).length > 0) print(context, `validation metrics: ${JSON.stringify({ loss, ...taskValues })}`);
    if (run.result.bestModelDir) print(context, `best model (${experiment.trainer.metricForBest}): ${run.result.bestModelDir}`);
    print(context, `checkpoint: ${run.finalDir}`);
    writeRunReport(runDir, `Fine-tuning: ${experiment.config.name ?? 'run'}`, [metricsLine, `stopped: ${run.result.reason}`], readConfig(runDir));
    if (wasInterrupted(run.result)) throw new InterruptedError(run.result.lastCheckpoint ?? run.finalDir);
  },
};

/** The task of a built-in head name (a third-party head reports its own `task`). */
export function taskOfHeadName(name: string): TaskKind {
  const known: Record<string, TaskKind> = { 'sequence-classification': 'sequence-classification', regression: 'sequence-regression', 'token-classification': 'token-classification', 'question-answering': 'question-answering' };
  const task = known[name];
  if (!task) throw new ConfigError([`head.name: cannot tell the task of head "${name}"`]);
  return task;
}

/** A tokenizer with ids past the model's embedding rows is a config error, before any step runs. */
function checkVocabularyFitsConfig(backbone: BackbonePlugin, tokenizer: TokenizerPlugin): void {
  try {
    checkVocabularyFits(backbone, tokenizer);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
}

/** trainer.metricForBest must be loss or a metric the task reports. */
function checkMetricForBest(task: TaskKind, metric: string): void {
  const known = ['loss', ...TASK_METRICS[task]];
  if (known.includes(metric)) return;
  const near = didYouMean(metric, known);
  throw new ConfigError([`trainer.metricForBest: "${metric}" is not reported for ${task} (${known.join(', ')})${near ? `; did you mean "${near}"?` : ''}`]);
}

export const tokenizerTrainCommand: Command = {
  path: ['tokenizer', 'train'],
  summary: 'train a WordPiece (BERT) or byte-level BPE (GPT-2) tokenizer on a corpus',
  details: `
Reads the config's corpus section (or --input files) and writes tokenizer.json into the run folder.
Example: pretrain tokenizer train -c docs/examples/bert-mini.yaml --vocab-size 8000 -o runs/tok`,
  options: {
    ...CONFIG_OPTIONS,
    input: { type: 'string', multiple: true, valueName: 'FILE', description: 'plain-text files to train on instead of the config corpus (repeatable)' },
    type: { type: 'string', valueName: 'wordpiece|bpe', description: 'tokenizer model', default: 'wordpiece' },
    'vocab-size': { type: 'string', valueName: 'N', description: 'vocabulary size', default: '8000' },
    'min-frequency': { type: 'string', valueName: 'N', description: 'drop pieces seen fewer times', default: '2' },
  },
  async run(context) {
    const type = stringOption(context.options, 'type') as TokenizerType;
    if (type !== 'wordpiece' && type !== 'bpe') throw new PretrainError(`--type must be wordpiece or bpe, got "${type}"`);
    const vocabSize = numberOption(context.options, 'vocab-size')!;
    const inputs = (context.options.input as string[] | undefined) ?? [];
    const { corpus, runDir } = await corpusFromArgs(context, 'tokenizer', inputs);
    const texts = (async function* () {
      for await (const document of corpus.documents({ split: 'train', seed: 0 })) yield* document.sentences;
    })();
    const started = Date.now();
    const tokenizer = await trainTokenizer(texts, { type, vocabSize, minFrequency: numberOption(context.options, 'min-frequency') });
    const file = runDir.writeText('tokenizer.json', tokenizer.toJSON());
    print(context, `${type} tokenizer with ${tokenizer.getVocabSize()} tokens trained in ${((Date.now() - started) / 1000).toFixed(1)} s: ${file}`);
  },
};

/** Config-free text input for the data commands: --input files or the config's corpus section. */
async function corpusFromArgs(context: CommandContext, name: string, inputs: string[]): Promise<{ corpus: CorpusSourcePlugin; runDir: RunDir; raw: Record<string, unknown>; baseDir: string }> {
  registerBuiltins(defaultRegistry);
  const configPath = stringOption(context.options, 'config');
  let raw: Record<string, unknown> = configPath ? readConfigFile(path.resolve(context.io.cwd, configPath)) : {};
  raw = applyOverrides(raw, (context.options.set as string[] | undefined) ?? []);
  const baseDir = configPath ? path.dirname(path.resolve(context.io.cwd, configPath)) : context.io.cwd;
  const corpusRef = inputs.length > 0 ? { name: 'text', options: { paths: inputs.map((p) => path.resolve(context.io.cwd, p)) } } : raw.corpus;
  if (!corpusRef) throw new ConfigError(['corpus: required (or pass --input FILE)'], configPath);
  const ref = parseWithPath(pluginRefSchema, corpusRef, 'corpus', configPath);
  const definition = await defaultRegistry.resolve('corpus', ref.name, { fromDir: baseDir, configPath: 'corpus.name' });
  const options = parseWithPath(definition.options as z.ZodType<unknown>, ref.options, 'corpus.options', configPath);
  const corpus = await definition.create(options, { baseDir, seed: typeof raw.seed === 'number' ? raw.seed : 42 });
  const runDir = RunDir.create({ out: stringOption(context.options, 'out'), name, cwd: context.io.cwd });
  return { corpus, runDir, raw, baseDir };
}

export const corpusPrepareCommand: Command = {
  path: ['corpus', 'prepare'],
  summary: 'read and tokenize a corpus once, reporting documents, sentences and tokens',
  details: `
Reads the config's corpus (or --input files) with the tokenizer (config or --tokenizer) and writes
corpus-stats.json into the run folder. Example: pretrain corpus prepare -c docs/examples/bert-mini.yaml -t runs/tok/tokenizer.json`,
  options: {
    ...CONFIG_OPTIONS,
    ...TOKENIZER_OPTION,
    input: { type: 'string', multiple: true, valueName: 'FILE', description: 'plain-text files instead of the config corpus (repeatable)' },
  },
  async run(context) {
    const inputs = (context.options.input as string[] | undefined) ?? [];
    const { corpus, runDir, raw, baseDir } = await corpusFromArgs(context, 'corpus', inputs);
    await initBackend({ logger: context.log, ...backendOptionsOf(raw, stringOption(context.options, 'config')) });
    let tokenizer: TokenizerPlugin;
    const file = stringOption(context.options, 'tokenizer');
    if (file) tokenizer = loadTokenizer(path.resolve(context.io.cwd, file));
    else {
      if (!raw.tokenizer) throw new ConfigError(['tokenizer: required (or pass --tokenizer FILE)']);
      const ref = parseWithPath(pluginRefSchema, raw.tokenizer, 'tokenizer');
      const definition = await defaultRegistry.resolve('tokenizer', ref.name, { fromDir: baseDir, configPath: 'tokenizer.name' });
      tokenizer = await definition.create(parseWithPath(definition.options as z.ZodType<unknown>, ref.options, 'tokenizer.options'), { baseDir, seed: 0 });
    }
    const cacheDir = corpus instanceof TextCorpus ? await buildCache(context, corpus, tokenizer, runDir.path('token-cache')) : undefined;
    const stats = { documents: 0, sentences: 0, tokens: 0, unknownTokens: 0, tokenizerHash: tokenizer.hash() };
    const unk = tokenizer.specialTokenIds().unk;
    const progress = new ProgressBar({ label: 'documents', stream: context.io.stderr });
    // Counting reads the cache's ids when there is one: the corpus is tokenized once.
    const cached = cacheDir ? TokenizedCorpus.open(cacheDir) : undefined;
    const sources = cached ? [cached.documents({ split: 'train' })] : [tokenizedDocuments(corpus, tokenizer, 'train', 0), tokenizedDocuments(corpus, tokenizer, 'validation', 0)];
    for (const source of sources) {
      for await (const document of source) {
        stats.documents += 1;
        progress.update(stats.documents, `${stats.tokens} tokens`);
        stats.sentences += document.sentences.length;
        for (const sentence of document.sentences) {
          stats.tokens += sentence.length;
          if (unk !== undefined) for (const id of sentence) if (id === unk) stats.unknownTokens += 1;
        }
      }
    }
    cached?.close();
    progress.done();
    const out = runDir.writeJson('corpus-stats.json', stats);
    print(context, formatTable(['documents', 'sentences', 'tokens', 'unknown tokens'], [[stats.documents, stats.sentences, stats.tokens, stats.unknownTokens]]));
    print(context, `written: ${out}`);
    if (cacheDir) print(context, `pre-train from the token cache with: pretrain pretrain ... --token-cache ${cacheDir}`);
  },
};
