import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Jest's hooks, present in every module a jest test loads (core's build does not know jest's types). */
declare function beforeEach(fn: () => void): void;
declare function afterEach(fn: () => void): void;

/** A fresh temporary folder for each test of the calling file, removed after the test; call the result for its path. */
export function tempDirPerTest(prefix: string): () => string {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}
