#!/usr/bin/env bash
# `npm run test:arm64`: the linux-arm64 prebuild, run for real under emulation. Debian's arm64
# nodejs (unpacked into build/arm64-node/, not installed over the host's node) runs on
# qemu-aarch64-static and loads prebuilds/linux-arm64/adam-native.node; the doctor then checks
# every optimizer on every ISA the binary has against the TypeScript reference, bit for bit.
# Needs: qemu-user-static, dpkg --add-architecture arm64 (then apt-get update), dist/ and the prebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=prebuilds/linux-arm64/adam-native.node
root=build/arm64-node/root
[ -f "$binary" ] || { echo "arm64 parity: $binary is missing (npm run prebuilds -- arm64)" >&2; exit 1; }
command -v qemu-aarch64-static >/dev/null || { echo "arm64 parity: qemu-aarch64-static is missing (apt-get install qemu-user-static)" >&2; exit 1; }
if [ ! -x "$root/usr/bin/node" ]; then
  mkdir -p build/arm64-node/debs
  # Debian's node loads a few built-in modules from /usr/share/nodejs (the node-* packages).
  (cd build/arm64-node/debs && apt-get download -q nodejs:arm64 libnode108:arm64 libbrotli1:arm64 libc-ares2:arm64 libc6:arm64 \
    libicu72:arm64 libnghttp2-14:arm64 libssl3:arm64 libstdc++6:arm64 libgcc-s1:arm64 libuv1:arm64 zlib1g:arm64 \
    node-cjs-module-lexer node-acorn node-undici 2>&1 | grep -v "couldn't be accessed by user '_apt'" || true)
  for deb in build/arm64-node/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
fi
node_arm64() { qemu-aarch64-static -L "$PWD/$root" "$PWD/$root/usr/bin/node" "$@"; }
node_arm64 -e 'console.log(`emulated: node ${process.version} ${process.platform}-${process.arch}`)'
out=$(ADAM_NATIVE_BINARY="$binary" node_arm64 dist/cli.js doctor) || { echo "$out"; exit 1; }
echo "$out"
# An arm64 binary has both units: a build that lost one would still pass the doctor on the other.
for isa in scalar neon; do
  grep -Eq "^ +native/$isa +identical$" <<<"$out" || { echo "arm64 parity: no bitwise check of native/$isa" >&2; exit 1; }
done
# CRC-32C on the ARMv8 CRC instruction against the bitwise definition (every length 0..64 at
# offsets 0..7 for the 8-byte loop and its tail, 1 MiB, the check value, a continuation).
ADAM_NATIVE_BINARY="$binary" node_arm64 -e '
  const b = require(process.env.ADAM_NATIVE_BINARY.replace(/^(?!\/)/, "./"));
  const { crc32cBitwise: def } = require("./dist/checkpoint/crc32c.js");
  const d = new Uint8Array(1 << 20).map((_, i) => (Math.imul(i, 2654435761) >>> 24) ^ i);
  const bad = [];
  if (b.crc32c(Buffer.from("123456789"), 0) !== 0xe3069283) bad.push("check value");
  for (let o = 0; o < 8; o++) for (let n = 0; n <= 64; n++) if (b.crc32c(d.subarray(o, o + n), 7) !== def(d.subarray(o, o + n), 7)) bad.push(`offset ${o} length ${n}`);
  if (b.crc32c(d, 0) !== def(d) || b.crc32c(d.subarray(999), b.crc32c(d.subarray(0, 999), 0)) !== def(d)) bad.push("1 MiB");
  if (bad.length) { console.error("arm64 crc32c differs: " + bad.join(", ")); process.exit(1); }
  console.log("arm64 crc32c: identical to the bitwise definition");'
