/**
 * `finetune --from` on folders HF itself wrote (fixtures/hf/*\/model: save_pretrained output of
 * transformers 4.36.2): the backbone read from them computes HF's own hidden states, whether the
 * weights come in one file or in shards.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, readSafetensors, writeSafetensors, type SafetensorsInput } from '@pretrain/core';
import { int2d, loadHfFixture, maxAbsDiff } from '@pretrain/core/testing';
import { fromBertVocab } from '@pretrain/tokenizer';
import { loadHfBackbone } from './hf-folder';

beforeAll(() => initBackend({ log: false }));

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-hf-folder-'));

/** A WordPiece vocabulary of exactly `size` tokens (the fixtures' models have 1,000 ids). */
function tokenizerOfSize(size: number) {
  const file = path.join(tmp(), 'vocab.txt');
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: size - 5 }, (_, i) => `w${i}`)];
  fs.writeFileSync(file, `${tokens.join('\n')}\n`);
  return fromBertVocab(file);
}

/** save_pretrained's sharded layout: two model-0000k-of-00002.safetensors files and the index. */
function shardedCopy(modelDir: string): string {
  const dir = tmp();
  fs.copyFileSync(path.join(modelDir, 'config.json'), path.join(dir, 'config.json'));
  const tensors = [...readSafetensors(path.join(modelDir, 'model.safetensors')).tensors];
  const half = tensors.length >> 1;
  const weightMap: Record<string, string> = {};
  [tensors.slice(0, half), tensors.slice(half)].forEach((part, i) => {
    const name = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(path.join(dir, name), new Map(part.map(([n, t]) => [n, t as SafetensorsInput])));
    for (const [n] of part) weightMap[n] = name;
  });
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  return dir;
}

describe.each([['bert-pretraining'], ['gpt2']])('loadHfBackbone on the %s folder HF wrote', (name) => {
  const fixture = loadHfFixture(name);
  const inputs = fixture.json.inputs;

  it.each([['single file', () => fixture.modelDir], ['sharded', () => shardedCopy(fixture.modelDir)]])('%s: the last hidden state equals HF\'s (within 1e-4)', async (_, dirOf) => {
    const lines: string[] = [];
    const { backbone, modelRef } = await loadHfBackbone(dirOf(), { log: (line) => lines.push(line), tokenizer: tokenizerOfSize(1000) });
    const output = backbone.forward(
      { inputIds: int2d(inputs.input_ids), attentionMask: int2d(inputs.attention_mask), tokenTypeIds: inputs.token_type_ids ? int2d(inputs.token_type_ids) : undefined },
      { training: false },
    );
    const layers = Number(fixture.json.config.num_hidden_layers ?? fixture.json.config.n_layer);
    const expected = fixture.outputs.get(`hidden_states.${layers}`)!;
    // Padded positions differ by design (HF computes them too, but nothing reads them): compare the real tokens.
    const mask = tf.tensor3d(inputs.attention_mask.flat(), [inputs.attention_mask.length, inputs.attention_mask[0].length, 1]);
    const masked = tf.mul(output.sequenceOutput, mask);
    const expectedMasked = tf.mul(tf.tensor(expected.data, expected.shape), mask);
    expect(maxAbsDiff(masked, expectedMasked)).toBeLessThan(1e-4);
    expect(modelRef.name).toBe(name === 'gpt2' ? 'gpt2' : 'bert');
    // The 7 head tensors (MLM transform + bias, NSP) are reported in one note, not loaded into the backbone.
    if (name === 'bert-pretraining') expect(lines.join('\n')).toMatch(/note: 7 head tensors of .* are not used for fine-tuning/);
    tf.dispose([output.sequenceOutput, output.pooledOutput, mask, masked, expectedMasked]);
    backbone.dispose();
  });

  it('refuses a tokenizer with more ids than the model has', async () => {
    await expect(loadHfBackbone(fixture.modelDir, { log: () => undefined, tokenizer: tokenizerOfSize(1001) })).rejects.toThrow(/config\.json: vocab_size 1000 is smaller than the tokenizer's 1001 tokens/);
  });

  it('without tokenizer.json (and no --tokenizer) says what is missing', async () => {
    await expect(loadHfBackbone(fixture.modelDir, { log: () => undefined })).rejects.toThrow(/tokenizer\.json: not found; HF folders saved with a fast tokenizer have one \(or pass --tokenizer FILE\)/);
  });
});
