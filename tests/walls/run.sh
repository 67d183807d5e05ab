#!/bin/bash
# The walls between layers (agent/README.md), as the compiler sees them: each case is compiled with
# the include folders CMake gives that layer's library (the real target's, handed over by ctest), and
# must compile or must fail on the header named.
#   run.sh CC PLUGIN_INCLUDES CORE_INCLUDES   (folders separated by '|')
set -u
cc=$1 plugin_inc=$2 core_inc=$3
here=$(cd "$(dirname "$0")" && pwd)
fails=0
flags() { local IFS='|'; for d in $1; do printf -- '-I%s\n' "$d"; done; }
one() { # LAYER-INCLUDES FILE ok|HEADER
  local inc=$1 file=$2 want=$3 out rc
  mapfile -t I < <(flags "$inc")
  out=$("$cc" -std=c11 -fsyntax-only "${I[@]}" "$here/$file" 2>&1)
  rc=$?
  if [ "$want" = ok ]; then
    if [ $rc -eq 0 ]; then echo "ok   $file compiles"; else echo "FAIL $file should compile:"; echo "$out" | head -5; fails=$((fails + 1)); fi
  elif [ $rc -ne 0 ] && grep -q "$want" <<<"$out" && grep -qi "no such file" <<<"$out"; then
    echo "ok   $file does not compile: $want is not on its include path"
  else
    echo "FAIL $file should not compile for want of $want (exit $rc):"; echo "$out" | head -5; fails=$((fails + 1))
  fi
}
one "$plugin_inc" plugin_ok.c ok
one "$plugin_inc" plugin_runner.c runner.h
one "$plugin_inc" plugin_runner_prefixed.c pipeline/runner.h
one "$plugin_inc" plugin_app.c validate.h
one "$core_inc" core_ok.c ok
one "$core_inc" core_app.c validate.h
echo "walls: $fails failed"
[ $fails -eq 0 ]
