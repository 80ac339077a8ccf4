#!/usr/bin/env bash
# make stop: stops what `make run` started (by the pids it recorded).
cd "$(dirname "$0")/.."
for f in run/heapster.pid run/sim.pid; do
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$pid" 2>/dev/null
	fi
	rm -f "$f"
done
echo stopped
