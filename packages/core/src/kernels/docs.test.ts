/**
 * docs/backends.md must describe every kernel core registers: its registration lists (wasm, wasm C, cpu) are
 * rendered into the document's generated blocks, which must match them (UPDATE_KERNEL_DOCS=1 — or
 * `npm run docs:kernels` — rewrites the blocks), and core's optional kernels appear in its text.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CPU_KERNELS } from './cpu/index';
import { generatedBlock, kernelTable, withGeneratedBlock } from './docs';
import { OPTIONAL_KERNELS } from './optional';
import { WASM_KERNELS, WASM_SIMD_KERNELS } from './wasm/index';

const file = path.join(__dirname, '..', '..', '..', '..', 'docs', 'backends.md');
const blocks = { 'wasm kernels': kernelTable(WASM_KERNELS), 'wasm C kernels': kernelTable(WASM_SIMD_KERNELS), 'cpu kernels': kernelTable(CPU_KERNELS) };

if (process.env.UPDATE_KERNEL_DOCS === '1') {
  let doc = fs.readFileSync(file, 'utf8');
  for (const [name, table] of Object.entries(blocks)) doc = withGeneratedBlock(doc, name, table);
  fs.writeFileSync(file, doc);
}
const doc = fs.readFileSync(file, 'utf8');

describe('docs/backends.md', () => {
  it.each(Object.entries(blocks))('lists the %s as registered (rerun with UPDATE_KERNEL_DOCS=1 after changing a list)', (name, table) => {
    expect(generatedBlock(doc, name)).toBe(table);
  });

  it.each(OPTIONAL_KERNELS.map((n) => [n]))('describes the optional kernel %s', (name) => {
    expect(doc).toMatch(new RegExp(`\`${name}\``));
  });

  it('renders a list as a table, escaping pipes', () => {
    expect(kernelTable([{ kernelName: 'Add', why: 'a | b' }])).toBe('| kernel | why |\n|---|---|\n| `Add` | a \\| b |');
  });

  it('finds and replaces a block between its markers, and says when they are missing', () => {
    const text = 'a\n<!-- generated: x (npm run docs:kernels) -->\nold\n<!-- end generated: x -->\nb';
    expect(generatedBlock(text, 'x')).toBe('old');
    expect(generatedBlock(withGeneratedBlock(text, 'x', 'new'), 'x')).toBe('new');
    expect(generatedBlock(text, 'y')).toBeUndefined();
    expect(() => withGeneratedBlock(text, 'y', 'new')).toThrow(/no generated block "y"/);
  });
});
