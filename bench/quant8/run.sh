#!/usr/bin/env bash
# Builds and runs the 8-bit microbench (main.cc) with the addon's exact-arithmetic flags.
set -euo pipefail
cd "$(dirname "$0")"
out="${TMPDIR:-/tmp}/adam-q8micro"
mkdir -p "$out"
flags="-O3 -ffp-contract=off -fno-math-errno -fno-fast-math -std=c++17 -march=x86-64"
CXX="${CXX:-g++}"
$CXX $flags -DADAM_ISA=sse2 -DADAM_VEC_HEADER='"../../native/kernels/vec_sse2.h"' -c isa_unit.cc -o "$out/sse2.o"
$CXX $flags -mavx2 -DADAM_ISA=avx2 -DADAM_VEC_HEADER='"../../native/kernels/vec_avx2.h"' -c isa_unit.cc -o "$out/avx2.o"
$CXX $flags -mavx512f -DADAM_ISA=avx512 -DADAM_VEC_HEADER='"../../native/kernels/vec_avx512.h"' -c isa_unit.cc -o "$out/avx512.o"
$CXX $flags -c ../../native/kernels/quant8.cc -o "$out/quant8.o"
$CXX $flags main.cc "$out"/sse2.o "$out"/avx2.o "$out"/avx512.o "$out"/quant8.o -o "$out/q8micro"
"$out/q8micro" "$@"
