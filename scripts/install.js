// The package's `install` script. In order:
//   1. a source build is required (ADAM_NATIVE_BUILD_FROM_SOURCE=1, or a git checkout: a developer
//      must never silently end up on the fallback) -> build from source; a failure fails the install;
//   2. the prebuilt binary for this platform loads -> done;
//   3. cmake-js, cmake and a C++ compiler are here -> build from source;
//   4. otherwise one warning, and success: the library then runs on its TypeScript backend.
// A registry tarball never holds .git, so users always take steps 2-4 and never see a failed install.
// ADAM_NATIVE_BUILD_FROM_SOURCE=0 opts a checkout out of step 1. Arguments after the script name and
// ADAM_NATIVE_CMAKE_ARGS go to cmake-js (e.g. --CDADAM_NATIVE_CUDA=ON).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, missingTools, runCmakeJs } = require('./native-build');

const target = `${process.platform}-${process.arch}`;
const prebuild = path.join(ROOT, 'prebuilds', target, 'adam-native.node');
const extraArgs = process.argv.slice(2);
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

function main() {
  const env = process.env.ADAM_NATIVE_BUILD_FROM_SOURCE;
  const checkout = fs.existsSync(path.join(ROOT, '.git'));
  if (env === '1' || (checkout && env !== '0')) {
    const why = env === '1' ? 'ADAM_NATIVE_BUILD_FROM_SOURCE=1' : 'a git checkout (ADAM_NATIVE_BUILD_FROM_SOURCE=0 skips this)';
    console.log(`adam-native: building from source: ${why}`);
    if (buildFromSource()) return 0;
    console.error(`adam-native: the build from source failed (required here: ${why}); see the output above.`);
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
