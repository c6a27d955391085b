// `prepack` (npm pack, npm publish): a release tarball always carries every target's prebuilt
// binary, built from the sources it ships. A missing or stale prebuild is rebuilt (npm run
// prebuilds) when this machine can build it; ADAM_NATIVE_PREPACK=verify only checks. Anything
// still missing or stale fails the pack, with the reason and the fix. Everything goes to stderr:
// `npm pack --json` prints its JSON on stdout.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { TARGETS, sourcesDigest, prebuildProblem } = require('./prebuild-stamp');

const root = process.env.ADAM_NATIVE_PREPACK_ROOT || path.join(__dirname, '..');
const verifyOnly = process.env.ADAM_NATIVE_PREPACK === 'verify';

let problems = TARGETS.map((t) => ({ t, why: prebuildProblem(root, t) })).filter((p) => p.why);
if (problems.length && !verifyOnly) {
  for (const p of problems) console.error(`prepack: ${p.why}; building it`);
  const r = spawnSync(process.execPath, [path.join(__dirname, 'prebuilds.js'), ...problems.map((p) => p.t.arch)], { cwd: root, stdio: ['inherit', process.stderr, 'inherit'] });
  if (r.status === 0) {
    const digest = sourcesDigest(root);
    problems = problems.map((p) => ({ t: p.t, why: prebuildProblem(root, p.t, digest) })).filter((p) => p.why);
  }
}
if (problems.length) {
  console.error('\nprepack: REFUSING TO PACK: this tarball would lack a working prebuilt binary:');
  for (const p of problems) console.error(`  - ${p.why ?? `${p.t.target}: the build failed (output above)`}`);
  console.error('Run `npm run prebuilds` (linux-arm64 needs g++-aarch64-linux-gnu), then pack again.\n');
  process.exit(1);
}
console.error(`prepack: ${TARGETS.map((t) => `prebuilds/${t.target}`).join(' and ')} match the sources`);
