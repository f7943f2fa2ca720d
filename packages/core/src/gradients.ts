// Load order matters: the CommonJS tfjs-core creates the global engine first, then the bundled
// gradient registrations (see tools/scripts/bundle-tf-gradients.js) attach to it.
import '@tensorflow/tfjs-core';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./generated/tf-gradients');
