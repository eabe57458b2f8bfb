#!/bin/sh
# tests/screen/gen.sh VMS - a runbook that keeps a screen busy on the real clock for a few
# seconds: VMS VMs through fan-out steps with concurrency limits (sleep), a check that fails
# for the VMs whose name ends in 7 (tolerated), an approval that waits for a person (the test
# answers it; unanswered, it approves after 3 minutes), then a last fan-out. Used by
# tests/screen/run.sh.
set -eu
n=${1:?usage: gen.sh VMS}
awk -v n="$n" 'BEGIN {
	print "drover: 1"
	print "name: screen"
	print "backend:"
	print "  kind: sim"
	print "  vms:"
	for (i = 1; i <= n; i++)
		printf "    - { name: vm-%04d }\n", i
	print "vm_sets:"
	print "  all: { match: { name: \"^vm-\" } }"
	print "  sevens: { match: { name: \"7$\" } }"
	print "defaults: { timeout: 1h }"
	print "steps:"
	print "  - { id: shutdown, action: sleep, foreach: all, concurrency: 500, with: { duration: 400ms } }"
	print "  - { id: failover, action: sleep, foreach: all, needs: shutdown, concurrency: 250, with: { duration: 500ms } }"
	print "  - { id: check, action: fail, foreach: sevens, needs: failover, on_failure: continue,"
	print "      with: { message: \"the VM did not answer on 443\" } }"
	print "  - { id: validate, action: sleep, foreach: all, needs: failover, concurrency: 500, with: { duration: 500ms } }"
	print "  - { id: go-no-go, action: approve, needs: [check, validate],"
	print "      with: { message: \"Commit the failover?\", timeout: 3m, on_timeout: approve } }"
	print "  - { id: commit, action: sleep, foreach: all, needs: go-no-go, concurrency: 500, with: { duration: 400ms } }"
}'
