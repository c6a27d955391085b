#!/usr/bin/env node
// prebuildify's --node-gyp stand-in. prebuildify calls `<this> rebuild --target=.. --devdir=..
// --arch=.. --release|--debug` in its cwd and then takes the .node file from <cwd>/build/Release.
// We build that with cmake-js instead: an N-API build needs no Node headers for --target, so
// only --arch and the configuration carry over. The portable options (static C++ runtime, old
// glibc symbol versions) are what make a prebuilt binary; see CMakeLists.txt. --arch=arm64 on an
// x86-64 Linux host cross-compiles with aarch64-linux-gnu-g++.
'use strict';
const path = require('node:path');
const { runCmakeJs } = require('./native-build');

const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  console.error(`prebuild-gyp: expected 'rebuild', got '${args.join(' ')}'`);
  process.exit(2);
}
const arch = (args.find((a) => a.startsWith('--arch=')) ?? `--arch=${process.arch}`).slice('--arch='.length);
const cross =
  arch === 'arm64' && process.arch !== 'arm64'
    ? ['--CDCMAKE_SYSTEM_NAME=Linux', '--CDCMAKE_SYSTEM_PROCESSOR=aarch64', '--CDCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++']
    : ['--arch', arch];
const cmakeArgs = [
  'compile',
  '--out',
  path.join(process.cwd(), 'build'),
  '--CDADAM_NATIVE_STATIC_RUNTIME=ON',
  ...cross,
  ...(args.includes('--debug') ? ['--debug'] : []),
];
process.exit(runCmakeJs(cmakeArgs));
