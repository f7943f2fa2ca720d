/**
 * The threaded wasm build (started in a child process: the backend loads once per process) gives
 * the same numbers as the single-threaded one.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../backend';
import '../gradients';
import { runWorkload, type WorkloadResult } from './test-utils/workload';

function runThreadedChild(threads: number): { threads: number; results: WorkloadResult[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-threads-'));
  try {
    const entry = path.join(dir, 'child.ts');
    fs.writeFileSync(
      entry,
      `import { initBackend } from ${JSON.stringify(path.join(__dirname, '../index'))};
import { runWorkload } from ${JSON.stringify(path.join(__dirname, 'test-utils/workload'))};
initBackend({ backend: 'wasm', threads: ${threads}, log: false }).then((info) => {
  process.stdout.write(JSON.stringify({ threads: info.threads, detail: info.detail, results: runWorkload() }));
});
`,
    );
    const outfile = path.join(dir, 'child.js');
    require('esbuild').buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, external: ['@tensorflow/*'], nodePaths: [path.join(__dirname, '../../../../node_modules')], logLevel: 'error' });
    fs.copyFileSync(path.join(__dirname, 'wasm-worker.js'), path.join(dir, 'wasm-worker.js'));
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: path.join(__dirname, '../../../../node_modules') };
    delete env.JEST_WORKER_ID;
    return JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8', env, timeout: 60_000, maxBuffer: 1 << 28 }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

it('threaded wasm (2 threads, own process) matches single-threaded wasm bit for bit', async () => {
  const threaded = runThreadedChild(2);
  expect(threaded.threads).toBe(2);
  const info = await initBackend({ backend: 'wasm', threads: 1, log: false });
  expect(info.threads).toBe(1);
  const single = runWorkload();
  expect(threaded.results.map((r) => r.name)).toEqual(single.map((r) => r.name));
  for (const [i, expected] of single.entries()) {
    const got = threaded.results[i];
    expect(got.shape).toEqual(expected.shape);
    const differing = got.values.filter((v, j) => !Object.is(v, expected.values[j])).length;
    expect({ name: got.name, differing }).toEqual({ name: expected.name, differing: 0 });
  }
});
