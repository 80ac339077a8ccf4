#!/usr/bin/env bash
# make run: the simulator (a 10-node cluster by default) and the whole
# pipeline in the background, state under ./run/, API on 127.0.0.1:8082.
# `make stop` stops both.  Usage: run-demo.sh [--nodes N] [--pods P] -- [launcher flags]
set -eu
cd "$(dirname "$0")/.."
nodes=10
pods=10
while [ $# -gt 0 ]; do
	case "$1" in
	--nodes) nodes=$2; shift 2 ;;
	--pods) pods=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
api_port=${SIM_API_PORT:-18080}
kubelet_port=${SIM_KUBELET_PORT:-10255}
run=run
mkdir -p "$run"
bash tests/stop-demo.sh >/dev/null 2>&1 || true

setsid build/heapster-sim --nodes "$nodes" --pods "$pods" --api-port "$api_port" \
	--kubelet-port "$kubelet_port" >"$run/sim.log" 2>&1 </dev/null &
echo $! >"$run/sim.pid"
for _ in $(seq 100); do
	grep -q "heapster-sim: ready" "$run/sim.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "heapster-sim: ready" "$run/sim.log" || { cat "$run/sim.log"; echo "simulator did not start"; exit 1; }

setsid build/heapster \
	"--source=kubernetes.summary_api:http://127.0.0.1:$api_port?inClusterConfig=false&kubeletPort=$kubelet_port" \
	--metric_resolution=15s --run_dir="$run" --port=8082 "$@" >"$run/heapster.log" 2>&1 </dev/null &
echo $! >"$run/heapster.pid"

echo "waiting for the first batch (one resolution)..."
for _ in $(seq 120); do
	if curl -sf http://127.0.0.1:8082/api/v1/model/nodes/ 2>/dev/null | grep -q sim-node; then
		break
	fi
	kill -0 "$(cat "$run/heapster.pid")" 2>/dev/null || { tail -30 "$run/heapster.log"; exit 1; }
	sleep 0.5
done
cat <<TXT

heapster-c is running on a simulated cluster of $nodes nodes x $pods pods.
  nodes:        curl 127.0.0.1:8082/api/v1/model/nodes/
  a node's CPU: curl 127.0.0.1:8082/api/v1/model/nodes/sim-node-0/metrics/cpu/usage_rate
                (rates appear after two resolutions, 30 s)
  what the simulator served: curl 127.0.0.1:$api_port/sim/truth?node=sim-node-0
  health:       curl 127.0.0.1:8082/healthz
  the store:    mdb_stat -a $run/store ; mdb_dump -p -s short.index $run/store
  logs:         $run/heapster.log (pipeline), $run/sim.log (simulator)
  stop:         make stop
TXT
