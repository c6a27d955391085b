// The package's `install` script. In order:
//   1. npm is preparing this package as a git dependency -> nothing: the packed result installs
//      (and runs this script) again at its destination, without .git;
//   2. a source build is required -> build from source; a failure fails the install. Required by
//      ADAM_NATIVE_BUILD_FROM_SOURCE=1, ADAM_NATIVE_CUDA=1 (the CUDA backend), ADAM_NATIVE_CMAKE_ARGS,
//      or a git checkout (a developer must never silently end up on the fallback);
//   3. the prebuilt binary for this platform loads -> done;
//   4. cmake and a C++ compiler are here -> build from source (cmake-js and node-addon-api are
//      fetched from npm for it);
//   5. otherwise one warning, and success: the library then runs on its TypeScript backend.
// A registry tarball never holds .git, so users always take steps 3-5 unless they ask for a build.
// ADAM_NATIVE_BUILD_FROM_SOURCE=0 opts a checkout out of step 2. Arguments after the script name and
// ADAM_NATIVE_CMAKE_ARGS go to cmake-js.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, missingTools, runCmakeJs } = require('./native-build');

const target = `${process.platform}-${process.arch}`;
const prebuild = path.join(ROOT, 'prebuilds', target, 'adam-native.node');
const cuda = process.env.ADAM_NATIVE_CUDA === '1';
const extraArgs = [...process.argv.slice(2), ...(cuda ? ['--CDADAM_NATIVE_CUDA=ON'] : [])];
const fallback = 'the library will run on its TypeScript backend (exact, but slower)';

function warn(message) {
  console.warn(`adam-native: warning: ${message}`);
}

function buildFromSource() {
  return runCmakeJs(['compile', ...extraArgs]) === 0;
}

/** Why the prebuilt binary does not load here, or null when it does. Tried in a child process, so
 *  a binary that crashes on this machine cannot take the install down with it. */
function prebuildProblem() {
  if (!fs.existsSync(prebuild)) return `no prebuilt binary for ${target} in this package`;
  const probe = `const b = require(${JSON.stringify(prebuild)}); if (typeof b.Plan !== 'function') throw new Error('no Plan export');`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = (r.stderr || '').split('\n').find((l) => /Error/.test(l)) || `exit ${r.status ?? r.signal}`;
  return `the prebuilt binary for ${target} does not load here (${why.trim()})`;
}

/** Why this install must build from source, or null. */
function requiredBuild() {
  const env = process.env.ADAM_NATIVE_BUILD_FROM_SOURCE;
  if (env === '1') return 'ADAM_NATIVE_BUILD_FROM_SOURCE=1';
  if (cuda) return 'ADAM_NATIVE_CUDA=1';
  if ((process.env.ADAM_NATIVE_CMAKE_ARGS || '').trim()) return 'ADAM_NATIVE_CMAKE_ARGS is set';
  if (env !== '0' && fs.existsSync(path.join(ROOT, '.git'))) return 'a git checkout (ADAM_NATIVE_BUILD_FROM_SOURCE=0 skips this)';
  return null;
}

function main() {
  // pacote sets this while it installs a git dependency's clone to pack it.
  if (process.env._PACOTE_NO_PREPARE_) {
    console.log('adam-native: packing a git dependency: the native setup runs when it is installed');
    return 0;
  }
  const required = requiredBuild();
  if (required) {
    console.log(`adam-native: building from source: ${required}`);
    const missing = missingTools();
    if (missing.length === 0 && buildFromSource()) return 0;
    const cause = missing.length ? `it needs ${missing.join(', ')}` : 'see the output above';
    console.error(`adam-native: the build from source failed (required here: ${required}); ${cause}.`);
    return 1;
  }

  const problem = prebuildProblem();
  if (!problem) {
    console.log(`adam-native: using the prebuilt binary ${path.relative(ROOT, prebuild)}`);
    return 0;
  }
  const missing = missingTools();
  if (missing.length === 0) {
    console.log(`adam-native: ${problem}; building from source`);
    if (buildFromSource()) return 0;
    warn(`${problem}, and the build from source failed (output above); ${fallback}.`);
    return 0;
  }
  warn(
    `${problem}, and a source build needs ${missing.join(', ')}; ${fallback}. ` +
      'For the native backend, install those and run `npm rebuild adam-native`.',
  );
  return 0;
}

process.exitCode = main();
