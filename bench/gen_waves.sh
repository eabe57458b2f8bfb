#!/bin/sh
# bench/gen_waves.sh VMS WAVES [CONCURRENCY [SEED]] - print a runbook that fails VMS
# simulated VMs over in WAVES dependent waves (VMS / WAVES VMs each, the
# simulator's realistic durations): wave k's failover needs every VM of wave
# k-1 validated; each VM is validated (dr.probe) as soon as its own failover
# ends (pipeline: true). CONCURRENCY (default 0: none) limits each failover
# step; SEED (default: none, the simulator's 0) seeds the simulator's
# durations. Used by bench/bench_waves.sh and tests/e2e (1,000 VMs).
set -eu
vms=${1:?usage: gen_waves.sh VMS WAVES [CONCURRENCY [SEED]]}
waves=${2:?usage: gen_waves.sh VMS WAVES [CONCURRENCY [SEED]]}
conc=${3:-0}
seed=${4:-}
awk -v n="$vms" -v w="$waves" -v c="$conc" -v seed="$seed" 'BEGIN {
	print "drover: 1"
	print "name: waves"
	printf "description: %d VMs failed over in %d dependent waves.\n", n, w
	print "backend:"
	print "  kind: sim"
	if (seed != "")
		printf "  seed: %d\n", seed
	print "  vms:"
	for (i = 0; i < n; i++)
		printf "    - { name: vm-%04d, tags: { wave: w%d } }\n", i + 1, i % w + 1
	print "vm_sets:"
	for (k = 1; k <= w; k++)
		printf "  w%d: { match: { tags: { wave: \"^w%d$\" } } }\n", k, k
	print "recovery: { point: latest-processed, max_age: 1h }"
	print "objectives: { rto: 4h, rpo: 15m }"
	print "defaults: { timeout: 12h }"
	print "steps:"
	for (k = 1; k <= w; k++) {
		printf "  - id: failover-w%d\n    action: dr.failover\n    targets: w%d\n", k, k
		printf "    with: { shutdown_source: false }\n"
		if (c > 0)
			printf "    concurrency: %d\n", c
		if (k > 1)
			printf "    needs: up-w%d\n", k - 1
		printf "  - id: up-w%d\n    action: dr.probe\n    foreach: w%d\n    pipeline: true\n    needs: failover-w%d\n", k, k, k
	}
}'
