'use strict';
// Browser builds map Node's builtins (fs, path, os, crypto, worker_threads, v8, module) here, through the
// `browser` field of the Pretrain packages: importing them works; using one names what is Node-only.
const fail = (what) => () => {
  throw new Error(`${what} is Node-only: file IO, worker threads and plugin loading by package name are not available in a browser build`);
};
module.exports = new Proxy({}, { get: (_, name) => (name === '__esModule' ? false : typeof name === 'string' ? fail(`${name}()`) : undefined) });
