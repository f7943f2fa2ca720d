// Runs inside the temporary project, against the installed tarballs only: @pretrain/backend-native
// must find its binary in the prebuilt platform package (the tarball of backend-native has no build/).
const tf = require('@tensorflow/tfjs-core');
const core = require('@pretrain/core');
const { loadAddon, nativeKernels } = require('@pretrain/backend-native');

async function main() {
  core.registerKernelPack(nativeKernels);
  const loaded = loadAddon();
  const backend = await core.initBackend({ backend: 'native', threads: 1, log: false });
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), false, true).arraySync());
  const native = core.replacedKernels().filter((k) => k.endsWith('(native)'));
  process.stdout.write(`${JSON.stringify({ file: loaded.file, backend, product, native })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
