/**
 * pthread worker for tfjs-backend-wasm's threaded SIMD build in Node.
 * TF.js hands Emscripten blob: URLs for the worker and the main script; Node's worker_threads
 * cannot load those. This file is the worker instead: it runs TF.js's own worker code and points
 * its importScripts() at the threaded module file inside the installed package.
 */
'use strict';
const mainScript = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');

// The worker asks for an object URL of the main script blob; give it the file path.
URL.createObjectURL = () => mainScript;
URL.revokeObjectURL = () => undefined;
// TF.js escapes newlines the same way before turning this source into a blob.
new Function('require', '__filename', wasmWorkerContents.replace(/\n/g, '\\n'))(require, __filename);
