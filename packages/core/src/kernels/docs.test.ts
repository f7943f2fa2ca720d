/**
 * docs/backends.md must describe every kernel core registers: each name in the wasm and cpu
 * registration lists, core's fused kernels and the optional ones appears in the document (in backticks),
 * so adding a kernel without documenting it fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from '../losses';
import { CPU_KERNELS } from './cpu/index';
import { LAYER_NORM, LAYER_NORM_GRAD } from './layer-norm';
import { OPTIONAL_KERNELS } from './optional';
import { WASM_KERNELS } from './wasm/index';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'docs', 'backends.md'), 'utf8');
const documented = (name: string) => doc.includes(`\`${name}\``) || doc.includes(`\`${name},`) || doc.includes(`, ${name}\``);

describe('docs/backends.md', () => {
  it.each(WASM_KERNELS.map((k) => [k.kernelName]))('documents the wasm kernel %s', (name) => {
    expect(documented(name)).toBe(true);
  });

  it.each([...CPU_KERNELS.map((k) => k.kernelName), LAYER_NORM, LAYER_NORM_GRAD, SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD, ...OPTIONAL_KERNELS].map((n) => [n]))('documents %s', (name) => {
    expect(documented(name)).toBe(true);
  });
});
