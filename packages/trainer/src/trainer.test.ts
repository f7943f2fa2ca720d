import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { PretrainError, initBackend, parseWithPath, readSafetensorsHeader, type StepEvent } from '@pretrain/core';
import { Trainer, TrainingDivergedError, type TrainerSetup } from './trainer';
import { trainerOptionsSchema, type TrainerOptionsInput } from './options';
import { documentSource, labeledExamples, stubTokenizer, TinyBackbone, TinyClassifierHead, TinyLmObjective } from './test-utils/tiny-models';

beforeAll(async () => {
  await initBackend({ log: false });
});

const tmpDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-trainer-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const examples = labeledExamples(40);
const validation = labeledExamples(12, 99);

function fineTuner(options: TrainerOptionsInput, extra: Partial<TrainerSetup> = {}) {
  const backbone = new TinyBackbone();
  const head = new TinyClassifierHead();
  const losses: number[] = [];
  const trainer = new Trainer({
    backbone,
    head,
    tokenizer: stubTokenizer(),
    seed: 11,
    options: { progress: 'none', ...options },
    callbacks: [{ onStep: (e: StepEvent) => void losses.push(e.loss) }, ...(extra.callbacks ?? [])],
    ...extra,
  });
  const snapshot = () => new Map([...trainer.namedParameters()].map(([n, v]) => [n, Array.from(v.dataSync() as Float32Array)]));
  const dispose = () => {
    trainer.dispose();
    backbone.dispose();
    head.dispose();
  };
  return { trainer, backbone, head, losses, snapshot, dispose };
}

function expectClose(a: number[], b: number[], tol: number): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThanOrEqual(tol));
}

function expectSameParams(a: Map<string, number[]>, b: Map<string, number[]>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, values] of a) expectClose(values, b.get(name)!, 1e-6);
}

describe('Trainer: exact resume', () => {
  const options: TrainerOptionsInput = {
    batchSize: 4,
    gradientAccumulationSteps: 2,
    maxSteps: 20,
    learningRate: 0.01,
    warmupSteps: 3,
    schedule: 'linear',
    maxGradNorm: 0.5,
    saveEachEpoch: false,
  };

  it('fine-tuning: 20 steps == 10 steps + stop + resume + 10 steps (losses 1e-6, final parameters)', async () => {
    const full = fineTuner({ ...options, outputDir: tempDir() });
    await full.trainer.train({ train: examples });
    expect(full.losses).toHaveLength(20);
    expect(new Set(full.losses.map((l) => l.toFixed(6))).size).toBeGreaterThan(10);

    const dir = tempDir();
    const first = fineTuner({ ...options, outputDir: dir });
    const stopper = { onStep: (e: StepEvent) => (e.step === 10 ? first.trainer.requestStop('test stop') : undefined) };
    (first.trainer as any).callbacks.push(stopper);
    const r1 = await first.trainer.train({ train: examples });
    expect(r1.step).toBe(10);
    expect(r1.stoppedEarly).toBe(true);
    expect(fs.existsSync(path.join(dir, 'checkpoint-10', 'trainer_state.json'))).toBe(true);
    first.dispose();

    const second = fineTuner({ ...options, outputDir: dir, resume: true });
    const r2 = await second.trainer.train({ train: examples });
    expect(r2.step).toBe(20);
    expectClose([...first.losses, ...second.losses], full.losses, 1e-6);
    expectSameParams(second.snapshot(), full.snapshot());
    second.dispose();
    full.dispose();
  });

  it('pre-training on documents: 12 steps == 5 + resume + 7 (builder RNG, run RNG and iterator position restored)', async () => {
    const run = async (dir: string, resume: boolean, stopAt?: number) => {
      const backbone = new TinyBackbone(2);
      const objective = new TinyLmObjective();
      const losses: number[] = [];
      const trainer: Trainer = new Trainer({
        backbone,
        objectives: [{ objective, weight: 1 }],
        tokenizer: stubTokenizer(),
        seed: 5,
        options: { progress: 'none', batchSize: 3, maxLength: 6, maxSteps: 12, learningRate: 0.02, schedule: 'cosine', warmupSteps: 2, outputDir: dir, resume, saveEachEpoch: false },
        callbacks: [{ onStep: (e) => void (losses.push(e.loss), e.step === stopAt && trainer.requestStop()) }],
      });
      await trainer.train({ train: documentSource(9) });
      const params = new Map([...trainer.namedParameters()].map(([n, v]) => [n, Array.from(v.dataSync() as Float32Array)]));
      trainer.dispose();
      backbone.dispose();
      objective.dispose();
      return { losses, params };
    };
    const full = await run(tempDir(), false);
    expect(full.losses).toHaveLength(12);
    const dir = tempDir();
    const a = await run(dir, false, 5);
    const b = await run(dir, true);
    expect(a.losses).toHaveLength(5);
    expectClose([...a.losses, ...b.losses], full.losses, 1e-6);
    expectSameParams(b.params, full.params);
  });
});

describe('Trainer: memory, checkpoints, divergence', () => {
  it('keeps tf.memory().numTensors flat across steps', async () => {
    const counts: number[] = [];
    const t = fineTuner({ batchSize: 4, gradientAccumulationSteps: 2, maxSteps: 6, learningRate: 0.01 }, { callbacks: [{ onStep: () => void counts.push(tf.memory().numTensors) }] });
    await t.trainer.train({ train: examples, validation });
    expect(counts).toHaveLength(6);
    // After the first step the optimizer moments exist; from then on nothing may accumulate.
    expect(new Set(counts.slice(1)).size).toBe(1);
    t.dispose();
  });

  it('writes checkpoints in HF layout atomically, a metrics.jsonl, and the best model', async () => {
    const dir = tempDir();
    const t = fineTuner({ batchSize: 8, epochs: 2, learningRate: 0.01, outputDir: dir, logEverySteps: 1, keepCheckpoints: 1 });
    const result = await t.trainer.train({ train: examples, validation });
    expect(result.step).toBe(10);
    const entries = fs.readdirSync(dir).sort();
    expect(entries).toEqual(['best', 'checkpoint-10', 'metrics.jsonl']);
    const ckpt = path.join(dir, 'checkpoint-10');
    expect(fs.readdirSync(ckpt).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'trainer_state.json']);
    const header = readSafetensorsHeader(path.join(ckpt, 'model.safetensors'));
    expect([...header.tensors.keys()].sort()).toEqual(['classifier.bias', 'classifier.dense.weight', 'tiny.embeddings.LayerNorm.weight', 'tiny.embeddings.word_embeddings.weight', 'tiny.layer.0.dense.bias', 'tiny.layer.0.dense.weight', 'tiny.layer.1.dense.bias', 'tiny.layer.1.dense.weight']);
    expect(header.tensors.get('tiny.layer.0.dense.weight')!.shape).toEqual([8, 8]);
    expect(header.tensors.get('classifier.dense.weight')!.shape).toEqual([3, 8]);
    const config = JSON.parse(fs.readFileSync(path.join(ckpt, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'tiny', architectures: ['TinyForSequenceClassification'] });
    const optimizer = readSafetensorsHeader(path.join(ckpt, 'optimizer.safetensors'));
    expect(optimizer.tensors.has('exp_avg.tiny.layer.0.dense.weight')).toBe(true);
    expect(optimizer.tensors.has('exp_avg_sq.classifier.bias')).toBe(true);
    const state = JSON.parse(fs.readFileSync(path.join(ckpt, 'trainer_state.json'), 'utf8'));
    expect(state).toMatchObject({ step: 10, epoch: 2, batchesInEpoch: 0, seed: 11 });
    const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'train')).toHaveLength(10);
    expect(lines.filter((l) => l.type === 'eval')).toHaveLength(2);
    expect(lines[0]).toMatchObject({ type: 'train', step: 1 });
    expect(fs.readdirSync(path.join(dir, 'best')).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    t.dispose();
  });

  it('removes the temporary folders a crashed run left, but not a live writer\'s or anything else', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = [`.tmp-checkpoint-3-${dead}-aB3dE9`, '.tmp-checkpoint-4-Xy12Zz', `.tmp-best-${dead}-q1w2e3`, `checkpoint-2.old-${dead}`];
    const kept = [`.tmp-checkpoint-5-${process.ppid}-live01`, '.tmp-other', 'notes'];
    for (const name of [...stale, ...kept]) {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, 'model.safetensors'), 'x');
    }
    const t = fineTuner({ batchSize: 8, maxSteps: 1, learningRate: 0.01, outputDir: dir });
    await t.trainer.train({ train: examples });
    t.dispose();
    const left = fs.readdirSync(dir);
    for (const name of stale) expect(left).not.toContain(name);
    for (const name of kept) expect(left).toContain(name);
    expect(left).toContain('checkpoint-1');
  });

  it('validates trainer_state.json on resume, naming the file and field', async () => {
    const dir = tempDir();
    const first = fineTuner({ batchSize: 8, maxSteps: 2, learningRate: 0.01, outputDir: dir });
    await first.trainer.train({ train: examples });
    first.dispose();
    const stateFile = path.join(dir, 'checkpoint-2', 'trainer_state.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    const resumeWith = async (edit: Record<string, unknown>) => {
      fs.writeFileSync(stateFile, JSON.stringify({ ...state, ...edit }));
      const t = fineTuner({ batchSize: 8, maxSteps: 4, learningRate: 0.01, outputDir: dir, resume: true });
      const outcome = await t.trainer.train({ train: examples }).catch((e: unknown) => e);
      t.dispose();
      return outcome;
    };
    const negative = await resumeWith({ step: -3 });
    expect(negative).toBeInstanceOf(PretrainError);
    expect((negative as Error).message).toMatch(new RegExp(`^${stateFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: step: .*>=0`));
    expect(((await resumeWith({ rng: { s: [1, 2] } })) as Error).message).toContain('trainer_state.json: rng.s: ');
    expect(((await resumeWith({ step: 7 })) as Error).message).toContain('trainer_state.json: step is 7 but the folder is checkpoint-2');
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('checkpoint-'))).toEqual(['checkpoint-2']);
  });

  it('saveModel replaces tokenizer.json atomically (a new file renamed over it, never rewritten in place)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), 'old');
    // A hard link still sees the old inode: an in-place rewrite would change what it reads.
    fs.linkSync(path.join(dir, 'tokenizer.json'), path.join(dir, 'previous.json'));
    const t = fineTuner({ batchSize: 8, maxSteps: 1, learningRate: 0.01 });
    t.trainer.saveModel(dir);
    t.dispose();
    expect(fs.readFileSync(path.join(dir, 'previous.json'), 'utf8')).toBe('old');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'))).toEqual(JSON.parse(stubTokenizer().toJSON()));
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('checkpoint and best folders get the permissions mkdir gives, not mkdtemp\'s 0700', async () => {
    const dir = tempDir();
    const t = fineTuner({ batchSize: 8, maxSteps: 2, learningRate: 0.01, outputDir: dir, evalEverySteps: 1 });
    await t.trainer.train({ train: examples, validation });
    t.dispose();
    fs.mkdirSync(path.join(dir, 'plain'));
    const mode = (name: string) => fs.statSync(path.join(dir, name)).mode & 0o777;
    expect(mode('checkpoint-2')).toBe(mode('plain'));
    expect(mode('best')).toBe(mode('plain'));
  });

  it('never declares a checkpoint with Inf weights good (learning rate 1e39)', async () => {
    const dir = tempDir();
    const good = fineTuner({ batchSize: 8, maxSteps: 2, learningRate: 0.01, schedule: 'constant', outputDir: dir, saveEverySteps: 1 });
    await good.trainer.train({ train: examples });
    good.dispose();
    const t = fineTuner({ batchSize: 8, maxSteps: 6, learningRate: 1e39, schedule: 'constant', outputDir: dir, saveEverySteps: 1, resume: true });
    const error = await t.trainer.train({ train: examples }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as Error).message).toMatch(/parameters became non-finite by step 3 \(epoch 0\): \S+ holds (NaN|-?Infinity), so step 3 was not saved; the last good checkpoint is .*checkpoint-2/);
    expect((error as TrainingDivergedError).lastGoodCheckpoint).toBe(path.join(dir, 'checkpoint-2'));
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('checkpoint-')).sort()).toEqual(['checkpoint-1', 'checkpoint-2']);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    t.dispose();
  });

  it('stops on a NaN loss with a clear message and keeps the last good checkpoint', async () => {
    const dir = tempDir();
    const t = fineTuner({ batchSize: 8, maxSteps: 10, learningRate: 0.01, outputDir: dir, saveEverySteps: 1, keepCheckpoints: 1 });
    t.head.poisonAfterCalls = 3;
    await expect(t.trainer.train({ train: examples })).rejects.toThrow(TrainingDivergedError);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('checkpoint-'))).toEqual(['checkpoint-3']);
    t.dispose();
    const again = fineTuner({ batchSize: 8, maxSteps: 10, learningRate: 0.01, outputDir: dir, saveEverySteps: 1 });
    again.head.poisonAfterCalls = 0;
    await expect(again.trainer.train({ train: examples })).rejects.toThrow(/training loss became NaN at step 1 \(epoch 0\); no checkpoint/);
    again.dispose();
    const third = fineTuner({ batchSize: 8, maxSteps: 10, learningRate: 0.01, outputDir: dir, resume: true });
    third.head.poisonAfterCalls = 0;
    await expect(third.trainer.train({ train: examples })).rejects.toThrow(/at step 4 \(epoch 0\); the last good checkpoint is .*checkpoint-3/);
    third.dispose();
  });
});

describe('Trainer: stop conditions and callbacks', () => {
  it('stops at the wall-clock budget with a checkpoint, and reports every event to callbacks', async () => {
    const dir = tempDir();
    const events: string[] = [];
    const t = fineTuner(
      { batchSize: 8, epochs: 3, learningRate: 0.01, outputDir: dir, maxWallClockSeconds: 1e-6, saveEachEpoch: false },
      {
        callbacks: [
          {
            onTrainBegin: (i) => void events.push(`begin ${i.totalSteps}`),
            onStep: (e) => void events.push(`step ${e.step}`),
            onCheckpoint: (e) => void events.push(`checkpoint ${e.step} ${path.basename(e.dir)}`),
            onTrainEnd: (i) => void events.push(`end ${i.step} ${i.stoppedEarly} ${i.reason}`),
          },
        ],
      },
    );
    const result = await t.trainer.train({ train: examples });
    expect(result.stoppedEarly).toBe(true);
    expect(events).toEqual(['begin 15', 'step 1', 'checkpoint 1 checkpoint-1', 'end 1 true reached the wall-clock budget of 0.000001s']);
    t.dispose();
  });

  it('a stop requested before train() (Ctrl-C while data loads) stops before the first step, with a checkpoint; the next train() runs', async () => {
    const dir = tempDir();
    const t = fineTuner({ batchSize: 8, maxSteps: 5, learningRate: 0.01, outputDir: dir });
    t.trainer.requestStop('interrupted (SIGINT)');
    const stopped = await t.trainer.train({ train: examples });
    expect(stopped.step).toBe(0);
    expect(stopped.reason).toBe('interrupted (SIGINT)');
    expect(stopped.stoppedEarly).toBe(true);
    expect(t.losses).toEqual([]);
    expect(stopped.lastCheckpoint).toBe(path.join(dir, 'checkpoint-0'));
    const resumed = await t.trainer.train({ train: examples });
    expect(resumed.reason).toBe('reached maxSteps');
    t.dispose();
  });

  it('runs whole epochs by default and fires onEpochEnd once per epoch', async () => {
    const epochsSeen: number[] = [];
    const t = fineTuner({ batchSize: 16, epochs: 2, learningRate: 0.01 }, { callbacks: [{ onEpochEnd: (e) => void epochsSeen.push(e.epoch) }] });
    const result = await t.trainer.train({ train: examples });
    // 40 examples / 16 = 3 batches per epoch (the last one partial), 2 epochs.
    expect(result.step).toBe(6);
    expect(result.reason).toBe('completed all epochs');
    expect(epochsSeen).toEqual([0, 1]);
    t.dispose();
  });
});

describe('Trainer: evaluation, early stopping, best model', () => {
  it('tracks the best metric and stops after `patience` evaluations without improvement', async () => {
    const scores = [0.5, 0.6, 0.55, 0.58, 0.9];
    let call = 0;
    const flags: boolean[] = [];
    const dir = tempDir();
    const t = fineTuner(
      { batchSize: 8, epochs: 5, evalEverySteps: 1, evalEachEpoch: false, metricForBest: 'score', earlyStoppingPatience: 2, learningRate: 0.01, outputDir: dir, saveEachEpoch: false },
      { computeMetrics: () => ({ score: scores[call++] }), callbacks: [{ onEvaluate: (e) => void flags.push(e.isBest) }] },
    );
    const result = await t.trainer.train({ train: examples, validation });
    expect(flags).toEqual([true, true, false, false]);
    expect(result.stoppedEarly).toBe(true);
    expect(result.reason).toMatch(/early stopping: score did not improve for 2 evaluations/);
    expect(result.best).toEqual({ metric: 'score', value: 0.6, step: 2 });
    expect(result.step).toBe(4);
    expect(fs.existsSync(path.join(dir, 'best', 'model.safetensors'))).toBe(true);
    t.dispose();
  });

  it('hands the batch attention mask to the head in training, evaluation and prediction', async () => {
    const maskedTokens: number[] = [];
    class MaskRecordingHead extends TinyClassifierHead {
      override forward(output: Parameters<TinyClassifierHead['forward']>[0], options: Parameters<TinyClassifierHead['forward']>[1]): tf.Tensor {
        maskedTokens.push(options.attentionMask ? tf.sum(options.attentionMask).dataSync()[0] : -1);
        return super.forward(output, options);
      }
    }
    const backbone = new TinyBackbone();
    const head = new MaskRecordingHead();
    const trainer = new Trainer({ backbone, head, tokenizer: stubTokenizer(), seed: 11, options: { progress: 'none', batchSize: 4, maxSteps: 2, evalEachEpoch: false, saveEachEpoch: false } });
    const few = validation.slice(0, 4);
    const tokens = few.reduce((sum, e) => sum + e.inputIds.length, 0);
    await trainer.train({ train: few });
    await trainer.evaluate(few);
    await trainer.predict(few);
    expect(maskedTokens).toEqual([tokens, tokens, tokens, tokens]);
    trainer.dispose();
    backbone.dispose();
    head.dispose();
  });

  it('evaluate() returns the eval-mode loss, which equals the mean CE computed by hand', async () => {
    const t = fineTuner({ batchSize: 5 });
    const metrics = await t.trainer.evaluate(validation);
    const predictions = await t.trainer.predict(validation);
    let sum = 0;
    predictions.forEach((p, i) => {
      const logits = Array.from(p.values);
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((a, x) => a + Math.exp(x - max), 0));
      sum += lse - logits[validation[i].labels!.labels];
    });
    expect(metrics.loss).toBeCloseTo(sum / validation.length, 5);
    expect(predictions[0].shape).toEqual([3]);
    t.dispose();
  });
});

describe('Trainer: fine-tuning strategies', () => {
  const base: TrainerOptionsInput = { batchSize: 8, maxSteps: 4, learningRate: 0.05, weightDecay: 0 };
  const changed = (before: Map<string, number[]>, after: Map<string, number[]>) =>
    [...before.keys()].filter((n) => before.get(n)!.some((x, i) => x !== after.get(n)![i])).sort();

  it('frozen backbone trains only the head', async () => {
    const t = fineTuner({ ...base, strategy: { type: 'frozen-backbone' } });
    const before = t.snapshot();
    await t.trainer.train({ train: examples });
    expect(changed(before, t.snapshot())).toEqual(['classifier.bias', 'classifier.dense.weight']);
    t.dispose();
  });

  it('freeze-layers keeps the embeddings and the first k layers fixed', async () => {
    const t = fineTuner({ ...base, strategy: { type: 'freeze-layers', layers: 1 } });
    const before = t.snapshot();
    await t.trainer.train({ train: examples });
    expect(changed(before, t.snapshot())).toEqual(['classifier.bias', 'classifier.dense.weight', 'tiny.layer.1.dense.bias', 'tiny.layer.1.dense.weight']);
    t.dispose();
  });

  it('gradual unfreezing adds one layer group from the top every N steps', async () => {
    const trained: string[][] = [];
    let previous: Map<string, number[]> | undefined;
    const t = fineTuner({ ...base, maxSteps: 4, strategy: { type: 'gradual-unfreezing', every: 1, unit: 'step' } });
    previous = t.snapshot();
    (t.trainer as any).callbacks.push({
      onStep: () => {
        const now = t.snapshot();
        trained.push(changed(previous!, now));
        previous = now;
      },
    });
    await t.trainer.train({ train: examples });
    expect(trained[0]).toEqual(['classifier.bias', 'classifier.dense.weight']);
    expect(trained[1]).toEqual(['classifier.bias', 'classifier.dense.weight', 'tiny.layer.1.dense.bias', 'tiny.layer.1.dense.weight']);
    expect(trained[2]).toContain('tiny.layer.0.dense.weight');
    expect(trained[2]).not.toContain('tiny.embeddings.word_embeddings.weight');
    expect(trained[3]).toContain('tiny.embeddings.word_embeddings.weight');
    t.dispose();
  });

  it('layer-wise LR decay scales each depth: a first Adam step moves parameters by ≈ lr·decay^(L+1−depth)', async () => {
    const t = fineTuner({ ...base, maxSteps: 1, learningRate: 0.01, layerwiseLrDecay: 0.5, maxGradNorm: null, schedule: 'constant' });
    const before = t.snapshot();
    await t.trainer.train({ train: examples });
    const after = t.snapshot();
    const maxMove = (name: string) => Math.max(...before.get(name)!.map((x, i) => Math.abs(after.get(name)![i] - x)));
    // Adam's first update is lr·g/(|g|+eps) ≈ lr per element with a non-zero gradient.
    expect(maxMove('classifier.dense.weight')).toBeCloseTo(0.01, 4);
    expect(maxMove('tiny.layer.1.dense.weight')).toBeCloseTo(0.01 * 0.5, 4);
    expect(maxMove('tiny.layer.0.dense.weight')).toBeCloseTo(0.01 * 0.25, 4);
    expect(maxMove('tiny.embeddings.word_embeddings.weight')).toBeCloseTo(0.01 * 0.125, 4);
    t.dispose();
  });
});

describe('trainer options', () => {
  it('validates the config section with errors that name the field', () => {
    expect(() => parseWithPath(trainerOptionsSchema, { batchSize: 0, schedule: 'exp', bogus: 1 }, 'trainer')).toThrow(/trainer\.batchSize[\s\S]*trainer\.schedule[\s\S]*unknown option "bogus"/);
    const parsed = parseWithPath(trainerOptionsSchema, {}, 'trainer');
    expect(parsed).toMatchObject({ batchSize: 32, learningRate: 5e-5, schedule: 'linear', strategy: { type: 'full' }, maxGradNorm: 1 });
  });

  it('needs maxSteps for a decaying schedule over streamed documents', async () => {
    const backbone = new TinyBackbone();
    const objective = new TinyLmObjective();
    const trainer = new Trainer({ backbone, objectives: [{ objective }], tokenizer: stubTokenizer(), options: { progress: 'none' } });
    await expect(trainer.train({ train: documentSource(2) })).rejects.toThrow(/set trainer\.maxSteps/);
    trainer.dispose();
    backbone.dispose();
    objective.dispose();
  });
});

describe('batches', () => {
  it('keeps float labels float when a batch starts with an integral score (regression)', async () => {
    const { BatchSource } = await import('./data');
    const data = [5, 3.8, 2.25].map((score) => ({ inputIds: Int32Array.from([1, 2]), labels: { labels: score } }));
    const source = new BatchSource(data, { seed: 1, batchSize: 3, padId: 0, shuffle: false, maxLength: 8 });
    const batches = [];
    for await (const b of source.batches(0, 0)) batches.push(b);
    expect(batches[0].fields.labels).toBeInstanceOf(Float32Array);
    expect(Array.from(batches[0].fields.labels)).toEqual([5, Math.fround(3.8), 2.25]);
  });
});
