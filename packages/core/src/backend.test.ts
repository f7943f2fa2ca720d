import * as tf from '@tensorflow/tfjs-core';
import { backendChoice, currentBackend, initBackend } from './backend';

describe('initBackend', () => {
  const saved = process.env.PRETRAIN_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.PRETRAIN_BACKEND;
    else process.env.PRETRAIN_BACKEND = saved;
  });

  it('defaults to wasm, logs the choice and thread count once, and leaves no global handlers behind', async () => {
    delete process.env.PRETRAIN_BACKEND;
    const before = { exception: process.listeners('uncaughtException').length, rejection: process.listeners('unhandledRejection').length };
    const lines: string[] = [];
    const info = await initBackend({ logger: (line) => lines.push(line) });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(lines).toEqual([expect.stringMatching(/^\[pretrain\] backend: wasm \(\d+ threads?; /)]);
    await initBackend({ logger: (line) => lines.push(line) });
    expect(lines).toHaveLength(1);
    expect({ exception: process.listeners('uncaughtException').length, rejection: process.listeners('unhandledRejection').length }).toEqual(before);
    expect(currentBackend()).toEqual(info);
  });

  it('honours PRETRAIN_BACKEND and rejects unknown values', async () => {
    process.env.PRETRAIN_BACKEND = 'cpu';
    expect((await initBackend({ log: false })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.PRETRAIN_BACKEND = 'gpu';
    expect(() => initBackend({ log: false })).toThrow('PRETRAIN_BACKEND must be one of wasm, cpu, tensorflow, native; got "gpu"');
  });

  it('reports a missing tfjs-node clearly when asked for tensorflow', async () => {
    let nodeInstalled = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      nodeInstalled = false;
    }
    if (nodeInstalled) return;
    await expect(initBackend({ backend: 'tensorflow', log: false })).rejects.toThrow(/neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node could be loaded/);
  });

  it('does not print the "install tfjs-node" banner on the cpu backend', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await initBackend({ backend: 'cpu', log: false });
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync());
      expect(warn.mock.calls.flat().join('\n')).not.toMatch(/tfjs-node/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('backendChoice', () => {
  const saved = { backend: process.env.PRETRAIN_BACKEND, threads: process.env.PRETRAIN_THREADS, precision: process.env.PRETRAIN_PRECISION };
  const restore = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  beforeEach(() => {
    delete process.env.PRETRAIN_BACKEND;
    delete process.env.PRETRAIN_THREADS;
    delete process.env.PRETRAIN_PRECISION;
  });
  afterAll(() => {
    restore('PRETRAIN_BACKEND', saved.backend);
    restore('PRETRAIN_THREADS', saved.threads);
    restore('PRETRAIN_PRECISION', saved.precision);
  });

  it("takes the config's backend and threads when the environment sets neither", () => {
    expect(backendChoice({ name: 'cpu', threads: 3 })).toEqual({ backend: 'cpu', threads: 3, precision: undefined });
    expect(backendChoice()).toEqual({ backend: undefined, threads: undefined, precision: undefined });
  });

  it('takes the precision from PRETRAIN_PRECISION over the config, and rejects an unknown one', () => {
    expect(backendChoice({ name: 'native', precision: 'bfloat16' })).toMatchObject({ precision: 'bfloat16' });
    process.env.PRETRAIN_PRECISION = 'float32';
    expect(backendChoice({ name: 'native', precision: 'bfloat16' })).toMatchObject({ precision: 'float32' });
    process.env.PRETRAIN_PRECISION = 'fp8';
    expect(() => backendChoice()).toThrow('PRETRAIN_PRECISION must be one of float32, bfloat16; got "fp8"');
  });

  it('lets PRETRAIN_BACKEND and PRETRAIN_THREADS override the config, each on its own', () => {
    process.env.PRETRAIN_BACKEND = 'wasm';
    expect(backendChoice({ name: 'cpu', threads: 3 })).toMatchObject({ backend: 'wasm', threads: 3 });
    process.env.PRETRAIN_THREADS = '2';
    expect(backendChoice({ name: 'cpu', threads: 3 })).toMatchObject({ backend: 'wasm', threads: 2 });
    delete process.env.PRETRAIN_BACKEND;
    expect(backendChoice({ name: 'cpu' })).toMatchObject({ backend: 'cpu', threads: 2 });
  });

  it('still rejects a bad environment value when the config is fine', () => {
    process.env.PRETRAIN_THREADS = 'many';
    expect(() => backendChoice({ threads: 2 })).toThrow('PRETRAIN_THREADS must be a positive integer; got "many"');
  });
});

describe('precision', () => {
  it('is float32 on every backend but native, and asking another backend for bfloat16 says what it needs', async () => {
    const info = await initBackend({ backend: 'cpu', log: false });
    expect(info.precision).toBe('float32');
    await expect(initBackend({ backend: 'cpu', precision: 'bfloat16', log: false })).rejects.toThrow('precision bfloat16 needs backend native (@pretrain/backend-native built with oneDNN); backend cpu runs float32');
    expect((await initBackend({ backend: 'cpu', log: false })).precision).toBe('float32');
  });
});
