/** The tiled transpose every wasm product with a transposed operand goes through, against the index formula. */
import { transposeLastTwoInto } from './shared';

describe('transposeLastTwoInto', () => {
  it.each([
    ['small tiles, ragged edges', 2, 13, 21],
    ['large tiles (both sides ≥ 1024), ragged edges', 1, 1030, 1100],
  ])('%s: out[b, j, i] = x[b, i, j]', (_name, batch, rows, cols) => {
    const x = Float32Array.from({ length: batch * rows * cols }, (_, i) => i);
    const out = new Float32Array(x.length);
    transposeLastTwoInto(out, x, batch, rows, cols);
    let wrong = 0;
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (out[b * rows * cols + j * rows + i] !== x[b * rows * cols + i * cols + j]) wrong++;
    expect(wrong).toBe(0);
  });
});
