#!/bin/sh
# Builds walker and compares where its memory lives: bound to the first node
# with memory, to the last one, and interleaved over all of them, each
# placement run REPS times in a randomised interleaved order (lnuma compare).
# The pages per node it reports show each placement held; the time per load
# shows what it costs.  On a one-node machine there are two placements, and
# they are one place.
#
#   sh examples/walker/compare.sh [MIB [MS [REPS]]]   (defaults 256 500 5)
#   extra lnuma options after them, e.g. --json or --svg walker.svg
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lnuma=${LNUMA:-$here/../../bin/lnuma}
mib=${1:-256} ms=${2:-500} reps=${3:-5}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
walker=${WALKER:-$here/walker}
[ -x "$walker" ] || make -s -C "$here" walker
nodes=$(cat /sys/devices/system/node/has_memory 2>/dev/null || echo 0)
first=$(echo "$nodes" | sed 's/[-,].*//')
last=$(echo "$nodes" | sed 's/.*[-,]//')
if [ "$last" != "$first" ]; then
  set -- --placement "node=$first" --placement "node=$last" --placement interleave=all "$@"
else
  set -- --placement "node=$first" --placement interleave=all "$@"
fi
exec "$lnuma" compare "$@" --repetitions "$reps" \
  --metric 'ns_per_load=([%d.]+)' -- "$walker" "$mib" "$ms"
