// `npm run prebuilds [-- x64|arm64]`: prebuilds/linux-<arch>/adam-native.node for each release
// target (default: all), with prebuildify, which has no cmake-js backend: its --node-gyp is
// scripts/prebuild-gyp.js. linux-arm64 is cross-compiled with Debian's g++-aarch64-linux-gnu.
// Each target builds in its own tree, build/prebuildify-<arch>/, so a developer's build/Release
// (what `cmake-js compile` made) stays put. Each binary gets its sources stamp (prebuild-stamp.js).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, onPath } = require('./native-build');
const { TARGETS, sourcesDigest, binaryPath, stampPath, elfMachine } = require('./prebuild-stamp');
const { glibcNeeds } = require('./glibc-needs');

function fail(message) {
  console.error(`prebuilds: ${message}`);
  process.exit(1);
}

/** Builds one target; returns a one-line summary. */
function build(t) {
  const digest = sourcesDigest(ROOT);
  const strip = t.cross ? `${t.cross}-strip` : 'strip';
  if (t.cross && !onPath(`${t.cross}-g++`))
    fail(`${t.target} needs the cross compiler ${t.cross}-g++ (Debian/Ubuntu: apt-get install g++-${t.cross})`);
  if (!onPath(strip)) fail(`${t.target} needs ${strip} (binutils)`);
  const work = path.join(ROOT, 'build', `prebuildify-${t.arch}`);
  fs.mkdirSync(work, { recursive: true });
  const out = binaryPath(ROOT, t.target);
  fs.rmSync(out, { force: true });
  fs.rmSync(stampPath(ROOT, t.target), { force: true });
  const cli = path.join(path.dirname(require.resolve('prebuildify/package.json', { paths: [ROOT] })), 'bin.js');
  const args = [cli, '--napi', '--strip', '--strip-bin', strip, '--arch', t.arch, '--name', 'adam-native', '--cwd', work, '--out', ROOT];
  args.push('--node-gyp', path.join(__dirname, 'prebuild-gyp.js'));
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`prebuildify for ${t.target} failed (exit ${r.status ?? r.signal})`);
  if (!fs.existsSync(out)) fail(`prebuildify finished but ${out} is missing`);
  if (elfMachine(out) !== t.elfMachine) fail(`${out} is not a ${t.target} binary`);
  if (sourcesDigest(ROOT) !== digest) fail('the sources changed during the build: run it again');
  fs.writeFileSync(stampPath(ROOT, t.target), `${digest}\n`);
  let glibc;
  try {
    glibc = `needs glibc >= ${glibcNeeds(out).newest}`;
  } catch {
    glibc = 'objdump not found: glibc requirement unknown';
  }
  return `${path.relative(ROOT, out)} (${fs.statSync(out).size} bytes, ${glibc})`;
}

if (process.platform !== 'linux' || process.arch !== 'x64')
  fail(`release prebuilds are made on linux-x64 (this is ${process.platform}-${process.arch})`);
const wanted = process.argv.slice(2);
const unknown = wanted.filter((a) => !TARGETS.some((t) => t.arch === a));
if (unknown.length) fail(`unknown target ${unknown.join(', ')}: expected ${TARGETS.map((t) => t.arch).join(' or ')}`);
const summary = TARGETS.filter((t) => wanted.length === 0 || wanted.includes(t.arch)).map(build);
for (const line of summary) console.log(`prebuilds: ${line}`);
