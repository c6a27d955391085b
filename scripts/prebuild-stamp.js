// Which sources a prebuilt binary was built from: a SHA-256 over the build inputs a tarball ships
// (native/ and CMakeLists.txt), written beside the binary as adam-native.sources. `npm pack`
// (scripts/prepack.js) refuses a binary whose stamp differs from the digest of the sources going
// into the same tarball, and the tarball test checks the stamps against the tarball's own files.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/** The Linux targets every release carries: npm's platform-arch, and the ELF machine of each. */
const TARGETS = [
  { arch: 'x64', target: 'linux-x64', elfMachine: 62, cross: null },
  { arch: 'arm64', target: 'linux-arm64', elfMachine: 183, cross: 'aarch64-linux-gnu' },
];

function listFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
}

/** Hex SHA-256 over the paths (relative, '/'-separated, sorted) and contents of the build inputs under `root`. */
function sourcesDigest(root) {
  const files = [...listFiles(path.join(root, 'native')), path.join(root, 'CMakeLists.txt')]
    .map((f) => path.relative(root, f).split(path.sep).join('/'))
    .sort();
  const hash = crypto.createHash('sha256');
  for (const f of files) hash.update(`${f}\0`).update(fs.readFileSync(path.join(root, f))).update('\0');
  return hash.digest('hex');
}

const binaryPath = (root, target) => path.join(root, 'prebuilds', target, 'adam-native.node');
const stampPath = (root, target) => path.join(root, 'prebuilds', target, 'adam-native.sources');

/** The ELF e_machine of a file (62 x86-64, 183 AArch64), or null when it is not a 64-bit little-endian ELF. */
function elfMachine(file) {
  const head = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    if (fs.readSync(fd, head, 0, 20, 0) < 20) return null;
  } finally {
    fs.closeSync(fd);
  }
  if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return null;
  return head.readUInt16LE(18);
}

/** Why the prebuild for `t` under `root` cannot ship, or null when it is there, of its architecture, and built from these sources. */
function prebuildProblem(root, t, digest = sourcesDigest(root)) {
  const bin = binaryPath(root, t.target);
  if (!fs.existsSync(bin)) return `prebuilds/${t.target}/adam-native.node is missing`;
  const machine = elfMachine(bin);
  if (machine !== t.elfMachine) return `prebuilds/${t.target}/adam-native.node is not a ${t.target} binary (ELF machine ${machine})`;
  const stamp = fs.existsSync(stampPath(root, t.target)) ? fs.readFileSync(stampPath(root, t.target), 'utf8').trim() : null;
  if (stamp === null) return `prebuilds/${t.target}/adam-native.sources is missing: where the binary came from is unknown`;
  if (stamp !== digest) return `prebuilds/${t.target}/adam-native.node is stale: built from other sources than native/ and CMakeLists.txt now`;
  return null;
}

module.exports = { TARGETS, sourcesDigest, binaryPath, stampPath, elfMachine, prebuildProblem };
