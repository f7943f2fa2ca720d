import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend';
import { checkpointArchitecture, HF_CONFIG_FILE, HF_WEIGHTS_FILE, loadBackboneAndHeads, loadCheckpointWeights, readCheckpointTensors, readHfConfigJson, saveHfCheckpoint, stripPrefix, tiedNamesOf } from './checkpoint';
import type { BackboneInfo, HfHeadDeclaration, LoadReport, ObjectiveArchitecture } from './contract';
import { PretrainError } from './errors';
import { ParameterSet, ParameterSetModule } from './parameters';
import { readSafetensorsHeader, writeSafetensors } from './safetensors';

beforeAll(() => initBackend({ log: false }));

/** A module owning every name it is given (so it reports all other names as unexpected). */
class Module extends ParameterSetModule {
  loadReport?: LoadReport;
  constructor(values: Record<string, number[]>, private readonly config: Record<string, unknown> = {}) {
    super(new ParameterSet(['']));
    for (const [name, v] of Object.entries(values)) this.parameters.add(name, tf.tensor1d(v));
  }
  configJSON(): Record<string, unknown> {
    return this.config;
  }
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'core-checkpoint-'));

test('saveHfCheckpoint prefixes backbone names, skips tied head names, merges and sorts config.json', () => {
  const dir = tmp();
  const backbone = new Module({ 'emb.weight': [1, 2] }, { z_key: 1, model_type: 'tiny' });
  const head = new Module({ 'cls.bias': [3], 'cls.decoder.weight': [9] }, { num_labels: 1 });
  const before = tf.memory().numTensors;
  saveHfCheckpoint(backbone, dir, { heads: [head], backbonePrefix: 'tiny.', tiedNames: ['cls.decoder.weight'], architecture: (names) => `Arch(${names.join(',')})`, config: { extra: true } });
  expect(tf.memory().numTensors).toBe(before);
  expect([...readSafetensorsHeader(path.join(dir, HF_WEIGHTS_FILE)).tensors.keys()].sort()).toEqual(['cls.bias', 'tiny.emb.weight']);
  const config = JSON.parse(fs.readFileSync(path.join(dir, HF_CONFIG_FILE), 'utf8'));
  expect(Object.keys(config)).toEqual(['architectures', 'extra', 'model_type', 'num_labels', 'z_key']);
  expect(config.architectures).toEqual(['Arch(tiny.emb.weight,cls.bias)']);
  const tensors = readCheckpointTensors(dir);
  expect(Array.from(tensors.get('tiny.emb.weight')!.dataSync())).toEqual([1, 2]);
  tf.dispose([...tensors.values()]);
  expect(() => saveHfCheckpoint(backbone, dir, { heads: [head, new Module({ 'cls.bias': [0] })], backbonePrefix: '', architecture: () => 'X' })).toThrow('savePretrained: two modules both provide tensor "cls.bias"');
  [backbone, head].forEach((m) => m.dispose());
});

test('loadBackboneAndHeads reports names that heads with owned prefixes pass over (HF: "weights not used")', () => {
  /** Like the MLM and NSP objectives: a ParameterSet that only looks at its own prefix. */
  class PrefixedHead extends ParameterSetModule {
    constructor(prefix: string, names: string[]) {
      super(new ParameterSet([prefix]));
      for (const name of names) this.parameters.add(name, tf.tensor1d([0]));
    }
  }
  const backbone = new Module({ 'emb.weight': [0, 0] });
  const mlm = new PrefixedHead('cls.predictions.', ['cls.predictions.bias']);
  const ownsNothing = { variables: () => new Map(), stateDict: () => new Map(), loadStateDict: () => ({ missing: [], unexpected: [] }), ownsTensorName: () => false, dispose: () => undefined };
  const tensors = new Map<string, tf.Tensor>([
    ['emb.weight', tf.tensor1d([1, 2])],
    ['cls.predictions.bias', tf.tensor1d([3])],
    ['cls.predictions.extra', tf.tensor1d([4])],
    ['cls.seq_relationship.weight', tf.tensor1d([5])],
  ]);
  expect(loadBackboneAndHeads(backbone, tensors, [mlm, ownsNothing])).toEqual({ missing: [], unexpected: ['cls.predictions.extra', 'cls.seq_relationship.weight'] });
  expect(Array.from(mlm.variables().get('cls.predictions.bias')!.dataSync())).toEqual([3]);
  // A second head that takes the NSP weight claims it.
  const nsp = new PrefixedHead('cls.seq_relationship.', ['cls.seq_relationship.weight']);
  expect(loadBackboneAndHeads(backbone, tensors, [mlm, nsp]).unexpected).toEqual(['cls.predictions.extra']);
  tf.dispose([...tensors.values()]);
  [backbone, mlm, nsp].forEach((m) => m.dispose());
});

test('loadBackboneAndHeads: the backbone takes its names, the heads the renamed rest; tied names are neither missing nor unexpected', () => {
  const backbone = new Module({ 'emb.weight': [0, 0] });
  const head = new Module({ 'cls.weight': [0], 'cls.tied': [0], 'cls.absent': [0] });
  const tensors = new Map<string, tf.Tensor>([
    ['emb.weight', tf.tensor1d([1, 2])],
    ['cls.gamma', tf.tensor1d([5])],
    ['cls.decoder', tf.tensor1d([7])],
    ['junk', tf.tensor1d([0])],
  ]);
  const report = loadBackboneAndHeads(backbone, tensors, [head], { tiedNames: ['cls.tied', 'cls.decoder'], renameHeadKey: (n) => n.replace(/\.gamma$/, '.weight') });
  expect(report).toEqual({ missing: ['cls.absent'], unexpected: ['junk'] });
  expect(Array.from(head.variables().get('cls.weight')!.dataSync())).toEqual([5]);
  tf.dispose([...tensors.values()]);
  [backbone, head].forEach((m) => m.dispose());
});

test('loadCheckpointWeights keeps the report, disposes the tensors, and on failure disposes the model and names the file', () => {
  const dir = tmp();
  const source = new Module({ 'emb.weight': [1, 2] });
  saveHfCheckpoint(source, dir, { backbonePrefix: '', architecture: () => 'X' });
  const before = tf.memory().numTensors;
  const model = loadCheckpointWeights(dir, new Module({ 'emb.weight': [0, 0] }), (tensors) => ({ missing: [], unexpected: [...tensors.keys()] }));
  expect(model.loadReport).toEqual({ missing: [], unexpected: ['emb.weight'] });
  const failing = new Module({ 'emb.weight': [0, 0] });
  const variable = failing.variables().get('emb.weight')!;
  const fail = (): LoadReport => {
    throw new PretrainError('bad shape');
  };
  expect(() => loadCheckpointWeights(dir, failing, fail)).toThrow(`${path.join(dir, HF_WEIGHTS_FILE)}: bad shape`);
  expect(variable.isDisposed).toBe(true);
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(() => readCheckpointTensors(tmp())).toThrow(/model\.safetensors: not found/);
  source.dispose();
});

test('readHfConfigJson merges overrides and names the file when it is missing or not JSON', () => {
  const dir = tmp();
  expect(() => readHfConfigJson(dir, 'BERT')).toThrow(`${path.join(dir, HF_CONFIG_FILE)}: not found (a pretrained BERT directory needs config.json and model.safetensors)`);
  fs.writeFileSync(path.join(dir, HF_CONFIG_FILE), '{ "a": 1,');
  expect(() => readHfConfigJson(dir, 'BERT')).toThrow(new RegExp(`${HF_CONFIG_FILE}: not valid JSON`));
  fs.writeFileSync(path.join(dir, HF_CONFIG_FILE), '{ "a": 1, "b": 2 }');
  expect(readHfConfigJson(dir, 'BERT', { b: 3 })).toEqual({ config: { a: 1, b: 3 }, file: path.join(dir, HF_CONFIG_FILE) });
  expect([stripPrefix('bert.encoder.x', 'bert'), stripPrefix('encoder.x', 'bert'), stripPrefix('bertx.y', 'bert')]).toEqual(['encoder.x', 'encoder.x', 'bertx.y']);
});

describe('readCheckpointTensors: the weight files HF folders come with', () => {
  const f32 = (values: number[]) => ({ dtype: 'F32' as const, shape: [values.length], data: values });

  test('reads the shards listed in model.safetensors.index.json (save_pretrained above max_shard_size)', () => {
    const dir = tmp();
    writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), { 'a.weight': f32([1, 2]), 'b.weight': f32([3]) });
    writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), { 'c.weight': f32([4, 5, 6]) });
    const weightMap = { 'a.weight': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00001-of-00002.safetensors', 'c.weight': 'model-00002-of-00002.safetensors' };
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 24 }, weight_map: weightMap }));
    const tensors = readCheckpointTensors(dir);
    expect([...tensors.keys()].sort()).toEqual(['a.weight', 'b.weight', 'c.weight']);
    expect(Array.from(tensors.get('c.weight')!.dataSync())).toEqual([4, 5, 6]);
    tf.dispose([...tensors.values()]);
  });

  test('an index naming a missing shard, a path outside the folder, or a tensor in two shards is refused by name', () => {
    const dir = tmp();
    writeSafetensors(path.join(dir, 'one.safetensors'), { 'a.weight': f32([1]) });
    writeSafetensors(path.join(dir, 'two.safetensors'), { 'a.weight': f32([2]) });
    const index = (weightMap: Record<string, string>) => fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    index({ 'a.weight': 'one.safetensors', 'b.weight': 'gone.safetensors' });
    expect(() => readCheckpointTensors(dir)).toThrow(/gone\.safetensors: shard listed in .*model\.safetensors\.index\.json not found/);
    index({ 'a.weight': '../one.safetensors' });
    expect(() => readCheckpointTensors(dir)).toThrow(/weight_map names "\.\.\/one\.safetensors", not a \.safetensors file in this folder/);
    index({ 'a.weight': 'one.safetensors', 'x.weight': 'two.safetensors' });
    const before = tf.memory().numTensors;
    expect(() => readCheckpointTensors(dir)).toThrow(/two\.safetensors: tensor "a\.weight" is also in another shard/);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a folder with only a pickle pytorch_model.bin is refused with how to convert it; nothing is unpickled', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), Buffer.from([0x80, 0x02, 0x63]));
    expect(() => readCheckpointTensors(dir)).toThrow(PretrainError);
    expect(() => readCheckpointTensors(dir)).toThrow(/pytorch_model\.bin: only safetensors weights can be read .*save_pretrained\('.*', safe_serialization=True\)/);
  });

  test('a truncated model.safetensors is refused naming the file', () => {
    const dir = tmp();
    writeSafetensors(path.join(dir, HF_WEIGHTS_FILE), { 'a.weight': f32([1, 2, 3, 4]) });
    const file = path.join(dir, HF_WEIGHTS_FILE);
    fs.truncateSync(file, fs.statSync(file).size - 5);
    expect(() => readCheckpointTensors(dir)).toThrow(new RegExp(`^${file.replace(/[.]/g, '\\.')}: `));
  });
});

describe('the HF class and tied names come from what the modules declare', () => {
  const info = { modelType: 'bert', baseArchitecture: 'BertModel' } as BackboneInfo;
  const declaring = (hfHead: HfHeadDeclaration, values: Record<string, number[]> = {}) => Object.assign(new Module(values), { hfHead });
  const objective = (name: string, arch: ObjectiveArchitecture) => Object.assign(new Module({}), { name, hfArchitecture: () => arch });

  test('checkpointArchitecture: objectives combine, else the one declared suffix after the stem, else the bare backbone', () => {
    const mlm = objective('mlm', { alone: { architecture: 'BertForMaskedLM', withoutBackbone: ['pooler.'] }, jointly: { architecture: 'BertForPreTraining', with: ['nsp'] } });
    const nsp = objective('nsp', { alone: { architecture: 'BertForNextSentencePrediction' }, jointly: { architecture: 'BertForPreTraining', with: ['mlm'] } });
    expect(checkpointArchitecture(info, [mlm, nsp])).toEqual({ architecture: 'BertForPreTraining', withoutBackbone: undefined });
    expect(checkpointArchitecture(info, [mlm])).toEqual({ architecture: 'BertForMaskedLM', withoutBackbone: ['pooler.'] });
    expect(checkpointArchitecture(info, [declaring({ suffix: 'ForTokenClassification' })])).toEqual({ architecture: 'BertForTokenClassification', withoutBackbone: undefined });
    expect(checkpointArchitecture({ modelType: 'gpt2', baseArchitecture: 'GPT2Model' } as BackboneInfo, [declaring({ suffix: 'LMHeadModel' })]).architecture).toBe('GPT2LMHeadModel');
    expect(checkpointArchitecture(info, [declaring({ suffix: 'ForA' }), declaring({ suffix: 'ForB' })]).architecture).toBe('BertModel');
    expect(checkpointArchitecture(info, [new Module({})]).architecture).toBe('BertModel');
    [mlm, nsp].forEach((m) => m.dispose());
  });

  test('saveHfCheckpoint drops the declared tied names and the backbone parts the class lacks; loading ignores tied names', () => {
    const dir = tmp();
    const backbone = Object.assign(new Module({ 'emb.weight': [1, 2], 'pooler.weight': [3] }), { info });
    const head = declaring({ suffix: 'ForMaskedLM', withoutBackbone: ['pooler.'], tiedNames: ['cls.decoder.weight'] }, { 'cls.bias': [3], 'cls.decoder.weight': [9] });
    expect(tiedNamesOf([backbone, head], ['x'])).toEqual(['x', 'cls.decoder.weight']);
    saveHfCheckpoint(backbone, dir, { heads: [head], backbonePrefix: 'bert.' });
    expect([...readSafetensorsHeader(path.join(dir, HF_WEIGHTS_FILE)).tensors.keys()].sort()).toEqual(['bert.emb.weight', 'cls.bias']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, HF_CONFIG_FILE), 'utf8')).architectures).toEqual(['BertForMaskedLM']);
    const tensors = new Map([['emb.weight', tf.tensor1d([0, 0])], ['cls.decoder.weight', tf.tensor1d([1])]]);
    const fresh = new Module({ 'emb.weight': [0, 0] });
    const bareHead = declaring({ tiedNames: ['cls.decoder.weight'] });
    expect(loadBackboneAndHeads(fresh, tensors, [bareHead])).toEqual({ missing: [], unexpected: [] });
    expect(loadBackboneAndHeads(fresh, tensors, [])).toEqual({ missing: [], unexpected: ['cls.decoder.weight'] });
    tf.dispose([...tensors.values()]);
    [backbone, head, fresh, bareHead].forEach((m) => m.dispose());
  });
});
