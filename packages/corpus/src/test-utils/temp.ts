import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const created: string[] = [];

/** A fresh temp directory, removed after the test file's tests (call at module level or in tests). */
export function tempDir(prefix = 'corpus-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes `content` to a file named `name` in a fresh temp directory; returns the file's path. */
export function writeTempFile(name: string, content: string | Buffer): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, content);
  return file;
}
