#!/bin/sh
# Fetch every node's /stats/summary once ("one round") from a running
# heapster-sim and report wall time, bytes and the simulator's CPU seconds.
#
# usage: tests/sim/bench_sim.sh [NODES] [PARALLEL] [API_URL] [KUBELET_PORT] [ROUNDS]
#        defaults: node count from the simulator, 8, http://127.0.0.1:18080, 10255, 1
set -eu
API=${3:-http://127.0.0.1:18080}
PORT=${4:-10255}
PAR=${2:-8}
ROUNDS=${5:-1}
NODES=${1:-$(curl -s "$API/sim/nodes" | sed 's/.*"nodes":\([0-9]*\).*/\1/')}
URLS=$(mktemp)
trap 'rm -f "$URLS"' EXIT

i=0
while [ "$i" -lt "$NODES" ]; do
    echo "http://127.0.$((1 + i / 250)).$((1 + i % 250)):$PORT/stats/summary/"
    i=$((i + 1))
done > "$URLS"

stat() { curl -s "$API/sim/stats?per_node=false" | sed "s/.*\"$1\":\([0-9.]*\).*/\1/"; }

r=1
while [ "$r" -le "$ROUNDS" ]; do
    cpu0=$(stat cpu_seconds); usr0=$(stat cpu_user_seconds)
    bytes0=$(stat bytes_served); n0=$(stat summaries_served)
    t0=$(date +%s.%N)
    # many URLs per curl process: every node is a different host, so each
    # fetch is a new connection, as a scraper's first round would be
    xargs -n 100 -P "$PAR" curl -s -f < "$URLS" > /dev/null
    t1=$(date +%s.%N)
    cpu1=$(stat cpu_seconds); usr1=$(stat cpu_user_seconds)
    bytes1=$(stat bytes_served); n1=$(stat summaries_served)
    echo "round $r: summaries=$((n1 - n0)) bytes=$((bytes1 - bytes0)) wall=$(echo "$t1 - $t0" | bc)s" \
         "sim_cpu=$(echo "$cpu1 - $cpu0" | bc)s (user $(echo "$usr1 - $usr0" | bc)s)"
    r=$((r + 1))
done
