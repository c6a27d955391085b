// What scripts/install.js and scripts/prebuild-gyp.js share: finding the tools a source build
// needs, and running cmake-js on this package.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');

/** The executable `name` on PATH, or null (no `which`: the PATH may hold nothing else). */
function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** What a source build lacks here: cmake-js, cmake, a C++ compiler. Empty when all are present. */
function missingTools() {
  const missing = [];
  try {
    require.resolve('cmake-js/package.json', { paths: [ROOT] });
  } catch {
    missing.push('cmake-js');
  }
  if (!onPath('cmake')) missing.push('cmake');
  const cxx = process.env.CXX ? [process.env.CXX] : ['c++', 'g++', 'clang++'];
  if (!cxx.some((c) => (path.isAbsolute(c) ? fs.existsSync(c) : onPath(c)))) missing.push('a C++ compiler (g++ or clang++)');
  return missing;
}

/** Extra cmake-js arguments from ADAM_NATIVE_CMAKE_ARGS (e.g. "--CDADAM_NATIVE_CUDA=ON"). */
function envCmakeArgs() {
  return (process.env.ADAM_NATIVE_CMAKE_ARGS || '').split(/\s+/).filter(Boolean);
}

/** Runs cmake-js with `args` in the package root, output to this terminal; returns the exit code. */
function runCmakeJs(args) {
  const pkg = require.resolve('cmake-js/package.json', { paths: [ROOT] });
  const bin = path.join(path.dirname(pkg), 'bin', 'cmake-js');
  const r = spawnSync(process.execPath, [bin, ...args, ...envCmakeArgs()], { cwd: ROOT, stdio: 'inherit' });
  if (r.error) {
    console.error(`adam-native: could not run cmake-js: ${r.error.message}`);
    return 1;
  }
  return r.status === null ? 1 : r.status;
}

module.exports = { ROOT, onPath, missingTools, runCmakeJs };
