/** Jest's module registry, present in every module a jest test loads (core's build does not know jest's types). */
declare const jest: { mock(moduleName: string, factory: () => unknown): void };

/**
 * From now on in this test file, requiring zod or TensorFlow.js throws, naming `loader` and the module: for tests
 * that a light entry (a `lite` export, a worker's module graph) stays free of them. Require the module under test
 * after calling this, inside the test.
 */
export function forbidZodAndTensorFlow(loader: string): void {
  jest.mock('zod', () => {
    throw new Error(`${loader} loaded zod`);
  });
  jest.mock('@tensorflow/tfjs-core', () => {
    throw new Error(`${loader} loaded TensorFlow.js`);
  });
}
