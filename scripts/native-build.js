// What scripts/install.js and scripts/prebuild-gyp.js share: finding the tools a source build
// needs, fetching the npm ones on demand, and running cmake-js on this package.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
// The npm packages only a source build needs. A user whose prebuilt binary loads never gets them:
// they are devDependencies, fetched here (at the versions package.json names) when a build runs.
const BUILD_PACKAGES = ['cmake-js', 'node-addon-api'];
const TOOLS_DIR = path.join(ROOT, 'build-tools'); // not under build/: `cmake-js rebuild` empties that

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

/** The package.json of npm package `name`, from this package's node_modules or the fetched tools, or null. */
function resolveBuildPackage(name) {
  try {
    return require.resolve(`${name}/package.json`, { paths: [ROOT, TOOLS_DIR] });
  } catch {
    return null;
  }
}

/** What a source build lacks here that no npm install can bring: cmake, a C++ compiler. */
function missingTools() {
  const missing = [];
  if (!onPath('cmake')) missing.push('cmake');
  const cxx = process.env.CXX ? [process.env.CXX] : ['c++', 'g++', 'clang++'];
  if (!cxx.some((c) => (path.isAbsolute(c) ? fs.existsSync(c) : onPath(c)))) missing.push('a C++ compiler (g++ or clang++)');
  return missing;
}

/** Installs the missing BUILD_PACKAGES into build-tools/ with npm; returns null, or why it failed. */
function fetchBuildPackages() {
  const missing = BUILD_PACKAGES.filter((name) => !resolveBuildPackage(name));
  if (missing.length === 0) return null;
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const specs = missing.map((name) => `${name}@${pkg.devDependencies[name]}`);
  console.log(`adam-native: fetching the source-build tools ${specs.join(', ')}`);
  fs.mkdirSync(TOOLS_DIR, { recursive: true });
  fs.writeFileSync(path.join(TOOLS_DIR, 'package.json'), '{"private":true}\n');
  // npm_execpath is the running npm's CLI under an install script; else the npm on PATH.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const r = spawnSync(npm[0], [...npm.slice(1), 'install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], {
    cwd: TOOLS_DIR,
    stdio: 'inherit',
  });
  if (r.status === 0 && missing.every((name) => resolveBuildPackage(name))) return null;
  return `npm install ${specs.join(' ')} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`;
}

/** Extra cmake-js arguments from ADAM_NATIVE_CMAKE_ARGS (e.g. "--CDCMAKE_CUDA_ARCHITECTURES=90-real"). */
function envCmakeArgs() {
  return (process.env.ADAM_NATIVE_CMAKE_ARGS || '').split(/\s+/).filter(Boolean);
}

/** Runs cmake-js with `args` in the package root, output to this terminal; returns the exit code. */
function runCmakeJs(args) {
  const problem = fetchBuildPackages();
  if (problem) {
    console.error(`adam-native: ${problem}`);
    return 1;
  }
  const bin = path.join(path.dirname(resolveBuildPackage('cmake-js')), 'bin', 'cmake-js');
  // CMakeLists.txt asks `node` for node-addon-api's include path: NODE_PATH lets it find build-tools/ too.
  const nodePath = [path.join(TOOLS_DIR, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  const r = spawnSync(process.execPath, [bin, ...args, ...envCmakeArgs()], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_PATH: nodePath } });
  if (r.error) {
    console.error(`adam-native: could not run cmake-js: ${r.error.message}`);
    return 1;
  }
  return r.status === null ? 1 : r.status;
}

module.exports = { ROOT, onPath, missingTools, runCmakeJs };
