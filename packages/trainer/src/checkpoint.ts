import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { describeWriteError, loadSafetensorsAsTensors, makeDirectory, PretrainError, z, writeFileAtomic, writeJsonAtomic, writeSafetensors, type LoadReport, type ParameterModule, type RngState } from '@pretrain/core';

/** Everything besides tensors that a resumed run needs to continue exactly. */
export interface TrainerState {
  version: 1;
  /** Optimizer steps taken. */
  step: number;
  /** Current epoch (0-based) and the micro-batches of it already consumed. */
  epoch: number;
  batchesInEpoch: number;
  examplesSeen: number;
  tokensSeen: number;
  elapsedMs: number;
  rng: RngState;
  /** AdamW per-parameter step counts. */
  optimizerSteps: Record<string, number>;
  schedule: { type: string; warmupSteps: number; totalSteps: number | null; learningRate: number };
  best: { metric: string; value: number; step: number } | null;
  evalsWithoutImprovement: number;
  /** Position of the document stream when it exposes getState (informational; resume replays and skips). */
  streamState?: Record<string, unknown>;
  seed: number;
}

/** The model (backbone + heads) as HF would save it, and how to map names back. */
export interface ModelParts {
  backbone: ParameterModule & { info: { basePrefix: string }; configJSON(): Record<string, unknown> };
  /** Heads and objectives, whose tensor names are already full HF names. */
  heads: ParameterModule[];
  configJSON(): Record<string, unknown>;
  /** Backbone name prefixes the saved HF class lacks (BertForMaskedLM: `pooler.`): not written, not expected. */
  withoutBackbone?: string[];
}

function omitted(parts: ModelParts, backboneName: string): boolean {
  return (parts.withoutBackbone ?? []).some((prefix) => backboneName.startsWith(prefix));
}

export const CHECKPOINT_PREFIX = 'checkpoint-';
const STATE_FILE = 'trainer_state.json';

/** HF-layout tensors of the whole model: backbone names get `basePrefix.`, head names stay. */
export function modelStateDict(parts: ModelParts): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  const prefix = parts.backbone.info.basePrefix;
  for (const [name, t] of parts.backbone.stateDict()) {
    if (omitted(parts, name)) t.dispose();
    else out.set(`${prefix}.${name}`, t);
  }
  for (const head of parts.heads) {
    for (const [name, t] of head.stateDict()) {
      if (out.has(name)) t.dispose();
      else out.set(name, t);
    }
  }
  return out;
}

/** A model or optimizer tensor holds NaN or ±Inf: such weights are never written as a checkpoint. */
export class NonFiniteTensorError extends PretrainError {
  constructor(
    readonly tensorName: string,
    readonly value: number,
  ) {
    super(`parameter ${tensorName} holds ${value} (not finite); refusing to save it as a checkpoint`, { path: tensorName });
    this.name = 'NonFiniteTensorError';
  }
}

/** Throws NonFiniteTensorError for the first float tensor with a NaN or ±Inf element. */
export function assertFiniteTensors(tensors: Map<string, tf.Tensor>): void {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32') continue;
    const values = t.dataSync() as Float32Array;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new NonFiniteTensorError(name, values[i]);
    }
  }
}

/** Writes config.json + model.safetensors (HF layout) into `dir` (files written atomically); refuses non-finite weights. */
export function saveModel(dir: string, parts: ModelParts): void {
  const tensors = modelStateDict(parts);
  try {
    assertFiniteTensors(tensors);
    makeDirectory(dir);
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  writeJsonAtomic(path.join(dir, 'config.json'), parts.configJSON());
}

/** Loads model.safetensors from a checkpoint or HF model directory into backbone and heads. */
export function loadModel(dir: string, parts: ModelParts): LoadReport {
  const file = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(file)) throw new PretrainError(`${file}: no model.safetensors in this checkpoint directory`, { file });
  const tensors = loadSafetensorsAsTensors(file);
  try {
    const prefix = `${parts.backbone.info.basePrefix}.`;
    const backboneTensors = new Map<string, tf.Tensor>();
    const rest = new Map<string, tf.Tensor>();
    for (const [name, t] of tensors) {
      if (name.startsWith(prefix)) backboneTensors.set(name.slice(prefix.length), t);
      else rest.set(name, t);
    }
    // A bare backbone checkpoint (HF BertModel) has no prefix: hand the backbone everything then.
    const bare = backboneTensors.size === 0;
    const report = parts.backbone.loadStateDict(bare ? tensors : backboneTensors);
    const missing = report.missing.filter((n) => !omitted(parts, n)).map((n) => `${prefix}${n}`);
    for (const head of parts.heads) missing.push(...head.loadStateDict(rest).missing);
    const known = headTensorNames(parts.heads);
    const unexpected = bare ? [] : [...rest.keys()].filter((n) => !known.has(n));
    return { missing, unexpected: [...report.unexpected.map((n) => `${prefix}${n}`), ...unexpected] };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function headTensorNames(heads: ParameterModule[]): Set<string> {
  const names = new Set<string>();
  for (const head of heads) {
    const state = head.stateDict();
    for (const [name, t] of state) {
      names.add(name);
      t.dispose();
    }
  }
  return names;
}

export interface CheckpointContents {
  parts: ModelParts;
  optimizerTensors: Map<string, tf.Tensor>;
  state: TrainerState;
  /** Extra files (e.g. tokenizer.json) copied into the checkpoint. */
  extraFiles?: Record<string, string>;
}

/**
 * Writes `checkpoint-<step>` atomically: everything goes into a temp directory that is renamed
 * into place only when complete, so a crash never leaves a half-written checkpoint under that name.
 */
export function saveCheckpoint(outputDir: string, contents: CheckpointContents): string {
  makeDirectory(outputDir);
  const finalDir = path.join(outputDir, `${CHECKPOINT_PREFIX}${contents.state.step}`);
  assertFiniteTensors(contents.optimizerTensors);
  const tempDir = makeTempDir(outputDir, `${CHECKPOINT_PREFIX}${contents.state.step}`);
  try {
    saveModel(tempDir, contents.parts);
    writeSafetensors(path.join(tempDir, 'optimizer.safetensors'), contents.optimizerTensors, { format: 'pretrain-adamw' });
    for (const [name, text] of Object.entries(contents.extraFiles ?? {})) writeFileAtomic(path.join(tempDir, name), text);
    // The state file goes last: a directory with trainer_state.json is complete.
    writeJsonAtomic(path.join(tempDir, STATE_FILE), contents.state);
    if (fs.existsSync(finalDir)) {
      const old = `${finalDir}.old-${process.pid}`;
      fs.renameSync(finalDir, old);
      fs.renameSync(tempDir, finalDir);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tempDir, finalDir);
    }
  } catch (error) {
    fs.rmSync(tempDir, { recursive: true, force: true });
    throw describeWriteError(error, finalDir);
  }
  return finalDir;
}

/**
 * `<outputDir>/.tmp-<what>-<pid>-<random>`, with the permissions mkdir gives (mkdtemp's 0700 would
 * survive the rename and make checkpoints unreadable to the group).
 */
export function makeTempDir(outputDir: string, what: string): string {
  const dir = path.join(outputDir, `.tmp-${what}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    throw describeWriteError(error, dir);
  }
  return dir;
}

/** `.tmp-checkpoint-<step>-<pid>-XXXXXX`, `.tmp-best-<pid>-XXXXXX`, `checkpoint-<step>.old-<pid>`, `best.old-<pid>`. */
const TEMPORARY = /^(?:\.tmp-(?:checkpoint-\d+|best)-(?:(\d+)-)?[\w]+|(?:checkpoint-\d+|best)\.old-(\d+))$/;

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary folders a crashed run left in `outputDir` (half-written checkpoints, replaced
 * ones not yet deleted). Only this folder's, and never one whose writer (the pid in its name) still runs.
 */
export function removeStaleTemporaries(outputDir: string): string[] {
  if (!fs.existsSync(outputDir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(outputDir)) {
    const match = TEMPORARY.exec(name);
    if (!match) continue;
    const pid = Number(match[1] ?? match[2]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    fs.rmSync(path.join(outputDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Complete checkpoints in `outputDir`, oldest first. */
export function listCheckpoints(outputDir: string): { dir: string; step: number }[] {
  if (!fs.existsSync(outputDir)) return [];
  return fs
    .readdirSync(outputDir)
    .filter((name) => name.startsWith(CHECKPOINT_PREFIX) && /^\d+$/.test(name.slice(CHECKPOINT_PREFIX.length)))
    .map((name) => ({ dir: path.join(outputDir, name), step: Number(name.slice(CHECKPOINT_PREFIX.length)) }))
    .filter((c) => fs.existsSync(path.join(c.dir, STATE_FILE)))
    .sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(outputDir: string): string | undefined {
  const all = listCheckpoints(outputDir);
  return all.length ? all[all.length - 1].dir : undefined;
}

const count = z.number().int().nonnegative();
const uint32 = count.max(0xffffffff);

/** trainer_state.json as written by saveCheckpoint: every field a resumed run relies on. */
const trainerStateSchema = z.looseObject({
  version: z.literal(1),
  step: count,
  epoch: count,
  batchesInEpoch: count,
  examplesSeen: count,
  tokensSeen: count,
  elapsedMs: z.number().nonnegative(),
  rng: z.looseObject({ s: z.array(uint32).length(4), spareNormal: z.number().nullable().optional() }),
  optimizerSteps: z.record(z.string(), count),
  schedule: z.looseObject({ type: z.string(), warmupSteps: count, totalSteps: count.nullable(), learningRate: z.number() }),
  best: z.looseObject({ metric: z.string(), value: z.number(), step: count }).nullable(),
  evalsWithoutImprovement: count,
  streamState: z.record(z.string(), z.unknown()).optional(),
  seed: z.number().int(),
});

export function readTrainerState(dir: string): TrainerState {
  const file = path.join(dir, STATE_FILE);
  if (!fs.existsSync(file)) throw new PretrainError(`${dir}: not a complete checkpoint (no ${STATE_FILE})`, { file });
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PretrainError(`${file}: invalid JSON (${(error as Error).message})`, { file });
  }
  if ((raw as { version?: unknown } | null)?.version !== 1) throw new PretrainError(`${file}: unsupported trainer state (version ${String((raw as { version?: unknown } | null)?.version)})`, { file });
  const parsed = trainerStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PretrainError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message} (a damaged trainer state; resume from another checkpoint)`, { file, path: issue.path.join('.') });
  }
  const state = parsed.data as unknown as TrainerState;
  const named = new RegExp(`^${CHECKPOINT_PREFIX}(\\d+)$`).exec(path.basename(dir));
  if (named && Number(named[1]) !== state.step) throw new PretrainError(`${file}: step is ${state.step} but the folder is ${path.basename(dir)}`, { file, path: 'step' });
  return state;
}

export function readOptimizerTensors(dir: string): Map<string, tf.Tensor> {
  return loadSafetensorsAsTensors(path.join(dir, 'optimizer.safetensors'));
}

/** Deletes periodic checkpoints beyond the newest `keep`, never the one in `protect`. */
export function pruneCheckpoints(outputDir: string, keep: number, protect?: string): void {
  const all = listCheckpoints(outputDir);
  const removable = all.slice(0, Math.max(0, all.length - keep)).filter((c) => c.dir !== protect);
  for (const c of removable) fs.rmSync(c.dir, { recursive: true, force: true });
}
