// Load order matters: the CommonJS tfjs-core creates the global engine first, then the bundled
// gradient registrations (see tools/scripts/bundle-tf-gradients.js) attach to it.
import '@tensorflow/tfjs-core';
require('./generated/tf-gradients');
