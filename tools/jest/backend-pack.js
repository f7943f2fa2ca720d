// CI's per-backend job runs the HF parity and training tests with PRETRAIN_BACKEND=native: each test
// file's initBackend() then needs @pretrain/backend-native's kernel pack registered (programs do it
// themselves; the pretrain CLI does). Without that variable this file does nothing.
if (process.env.PRETRAIN_BACKEND === 'native') {
  const { registerKernelPack } = require('@pretrain/core');
  const { nativeKernels } = require('@pretrain/backend-native');
  registerKernelPack(nativeKernels);
}
