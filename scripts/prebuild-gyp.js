#!/usr/bin/env node
// prebuildify's --node-gyp stand-in. prebuildify calls `<this> rebuild --target=.. --devdir=..
// --arch=.. --release|--debug` in its cwd and then takes the .node file from <cwd>/build/Release.
// We build that with cmake-js instead: an N-API build needs no Node headers for --target, so
// only --arch and the configuration carry over. The portable options (static C++ runtime, old
// glibc symbol versions) are what make a prebuilt binary; see CMakeLists.txt.
'use strict';
const path = require('node:path');
const { runCmakeJs } = require('./native-build');

const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  console.error(`prebuild-gyp: expected 'rebuild', got '${args.join(' ')}'`);
  process.exit(2);
}
const arch = args.find((a) => a.startsWith('--arch='));
const cmakeArgs = [
  'compile',
  '--out',
  path.join(process.cwd(), 'build'),
  '--CDADAM_NATIVE_STATIC_RUNTIME=ON',
  ...(arch ? ['--arch', arch.slice('--arch='.length)] : []),
  ...(args.includes('--debug') ? ['--debug'] : []),
];
process.exit(runCmakeJs(cmakeArgs));
