#!/usr/bin/env bash
# Builds and runs the 1M streaming microbench (main.cc) with the addon's exact-arithmetic flags
# and the AVX-512 unit's -mavx512f, linked with the addon's thread pool (native/parallel.cc).
set -euo pipefail
cd "$(dirname "$0")"
out="${TMPDIR:-/tmp}/adam-streammicro"
mkdir -p "$out"
flags="-O3 -ffp-contract=off -fno-math-errno -fno-fast-math -std=c++17 -march=x86-64"
CXX="${CXX:-g++}"
$CXX $flags -c ../../native/parallel.cc -o "$out/parallel.o"
$CXX $flags -mavx512f main.cc "$out/parallel.o" -lpthread -o "$out/streammicro"
"$out/streammicro" "$@"
