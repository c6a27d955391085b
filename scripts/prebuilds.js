// `npm run prebuilds`: prebuilds/<platform>-<arch>/adam-native.node with prebuildify, which has
// no cmake-js backend: its --node-gyp is scripts/prebuild-gyp.js. It builds in its own tree,
// build/prebuildify/, so a developer's build/Release (what `cmake-js compile` made) stays put.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT } = require('./native-build');

const work = path.join(ROOT, 'build', 'prebuildify');
fs.mkdirSync(work, { recursive: true });
const cli = path.join(path.dirname(require.resolve('prebuildify/package.json', { paths: [ROOT] })), 'bin.js');
const args = [cli, '--napi', '--strip', '--name', 'adam-native', '--cwd', work, '--out', ROOT];
args.push('--node-gyp', path.join(__dirname, 'prebuild-gyp.js'));
const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

const out = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'adam-native.node');
if (!fs.existsSync(out)) {
  console.error(`prebuilds: prebuildify finished but ${out} is missing`);
  process.exit(1);
}
let glibc = '';
if (process.platform === 'linux') {
  try {
    glibc = `, needs glibc >= ${require('./glibc-needs').glibcNeeds(out).newest}`;
  } catch {
    glibc = ' (objdump not found: glibc requirement unknown)';
  }
}
console.log(`prebuilds: ${path.relative(ROOT, out)} (${fs.statSync(out).size} bytes${glibc})`);
