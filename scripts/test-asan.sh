#!/usr/bin/env bash
# `npm run test:asan`: the test suite against the addon built with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/, never build/Release). Node itself is not instrumented,
# so the sanitizer runtimes are preloaded into every node process (child processes and the package
# tests inherit the preload). Every report from any process goes to a file under $ASAN_REPORTS;
# the run fails if one exists, even where a test expected its child to fail.
# Arguments go to vitest (e.g. a test file).
set -euo pipefail
cd "$(dirname "$0")/.."

CXX="${CXX:-g++}"
npx cmake-js compile --out build-asan --CDADAM_NATIVE_SANITIZE=ON
asan="$("$CXX" -print-file-name=libasan.so)"
ubsan="$("$CXX" -print-file-name=libubsan.so)"
for lib in "$asan" "$ubsan"; do
  [ -f "$lib" ] || { echo "test:asan: $lib not found (needs $CXX's sanitizer runtimes)" >&2; exit 1; }
done

reports="${ASAN_REPORTS:-$PWD/build-asan/reports}"
rm -rf "$reports" && mkdir -p "$reports"
export ADAM_NATIVE_BINARY="$PWD/build-asan/Release/adam_native.node"
export LD_PRELOAD="$asan $ubsan${LD_PRELOAD:+ $LD_PRELOAD}"
# detect_leaks=0: node and V8 keep memory until exit by design; the leak check would report them.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"

status=0
npx vitest run "$@" || status=$?
if compgen -G "$reports/*" >/dev/null; then
  echo "test:asan: sanitizer reports:" >&2
  for f in "$reports"/*; do echo "== $f" >&2; head -60 "$f" >&2; done
  status=1
fi
exit $status
