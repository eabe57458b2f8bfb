#!/usr/bin/env bash
# The emulator end to end: the real `drover emulator` process on loopback
# (port 0: a free one), driven with curl(1) and read with jq(1), as a client
# would: tokens, every route, paging, ARM's refusals (401, api-version,
# 429), the state machine's, faults, the audit log, SIGTERM, kill -9 and
# restart with the state kept, and the OpenAPI contract checker.
#
#   tests/emulator/run.sh DROVER          ends with "emulator: N passed, M failed"
#   tests/emulator/run.sh DROVER NAME...  only those scenarios
#
# Every emulator runs at --speed 600 (a 5-minute failover takes half a
# second) and is stopped by the scenario that started it; ports are the
# kernel's, files live in a mktemp folder, so parallel runs never collide.
set -u
drover=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
ref=$("$here/../reference-dir.sh") || { echo "emulator: 0 passed, 1 failed (no reference material)"; exit 1; }
tmp=$(mktemp -d); trap 'stop_all; rm -rf "$tmp"' EXIT
pass=0 fail=0 scenario= pids=
V=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim/providers/Microsoft.RecoveryServices/vaults/drover-sim-vault
AV=api-version=2025-08-01
. "$here/../wait.sh"

ok() { # ok DESCRIPTION STATUS
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL emulator $scenario: $1"; fi
}
check() { # check DESCRIPTION COMMAND...: ok on the command's status
	local d=$1; shift
	"$@"; ok "$d" $?
}
stop_all() { local p; for p in $pids; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; }

# start NAME [OPTIONS...]: an emulator in the background; sets U (its URL) and P (its pid).
start() {
	local name=$1; shift
	rm -f "$tmp/$name.url"
	"$drover" emulator --speed 600 --port-file "$tmp/$name.url" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	P=$!; pids="$pids $P"
	wait_until -p "$P" -i 0.02 test -s "$tmp/$name.url"
	U=$(cat "$tmp/$name.url" 2>/dev/null)
	[ -n "$U" ] || { echo "    emulator $name did not start:"; sed 's/^/      /' "$tmp/$name.err"; return 1; }
}
stop() { kill -TERM "$P" 2>/dev/null; wait "$P"; } # stop: SIGTERM, then its exit status

token() { # token: a bearer token from the token endpoint, into T
	T=$(curl -s -X POST "$U/tenant-1/oauth2/v2.0/token" -d grant_type=client_credentials \
		-d client_id=drover-emulator-client -d client_secret=drover-emulator-secret \
		--data-urlencode scope=https://management.azure.com/.default | jq -r .access_token)
	[ -n "$T" ] && [ "$T" != null ]
}
# get PATH_AND_QUERY: the body into $tmp/body, the status into S (headers into $tmp/hdr).
get() { S=$(curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -H "Authorization: Bearer $T" "$U$1"); }
# post PATH_AND_QUERY [BODY [REQUEST_ID]]
post() {
	S=$(curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -X POST -H "Authorization: Bearer $T" \
		-H "Content-Type: application/json" -H "x-ms-client-request-id: ${3:-}" ${2:+-d "$2"} "$U$1")
}
header() { grep -i "^$1:" "$tmp/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
j() { jq -r "$1" "$tmp/body"; } # j FILTER: of the last body
is() { [ "$1" = "$2" ] || { echo "    got '$1', expected '$2'"; return 1; }; }
item_id() { # item_id VM: the id of its protected item, through every page
	local url="$U$V/replicationProtectedItems?$AV" id=
	while [ -n "$url" ] && [ "$url" != null ] && [ -z "$id" ]; do
		curl -s -o "$tmp/page" -H "Authorization: Bearer $T" "$url"
		id=$(jq -r ".value[] | select(.properties.friendlyName == \"$1\") | .id" "$tmp/page")
		url=$(jq -r .nextLink "$tmp/page")
	done
	echo "$id"
}
# wait_job JOB: poll replicationJobs/JOB until it is done; its state in S_JOB.
job_ended() {
	get "$V/replicationJobs/$1?$AV"
	S_JOB=$(j .properties.state)
	case $S_JOB in Succeeded|Failed|Cancelled) return 0 ;; esac
	return 1
}
wait_job() { wait_until job_ended "$1"; }
op_ended() { # op_ended URL: the operation at URL (Azure-AsyncOperation) is no longer in progress
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $T" "$1")
	[ "$(j .status)" != InProgress ]
}
# op ITEM_ID OPERATION BODY: start it, wait for its job; JOB is the job's name.
op() {
	post "$1/$2?$AV" "$3" "${4:-}"
	[ "$S" = 202 ] || { echo "    $2: $S $(cat "$tmp/body")"; return 1; }
	JOB=$(header Location | sed 's|.*operationresults/||; s|?.*||')
	wait_job "$JOB" && [ "$S_JOB" = Succeeded ]
}
FO='{"properties":{"failoverDirection":"PrimaryToRecovery","sourceSiteOperations":"NotRequired","providerSpecificDetails":{"instanceType":"A2A"}}}'

# --- start, tokens, ARM's refusals ------------------------------------------------------------
basics() {
	local t0 t1 cpu
	t0=$(date +%s%N)
	start basics; ok "starts" $?
	t1=$(date +%s%N)
	# its CPU time, not the wall clock's (a loaded machine stretches that): about 20 ms alone
	cpu=$(awk '{ print $14 + $15 }' "/proc/$P/stat")
	check "starts in well under a second of CPU ($((cpu * 1000 / $(getconf CLK_TCK))) ms; $(((t1 - t0) / 1000000)) ms of wall clock)" \
		[ $((cpu * 1000 / $(getconf CLK_TCK))) -lt 1000 ]
	# the URL file is written before the line is printed: wait for the line (a loaded machine runs the test first)
	wait_until -p "$P" -i 0.02 test -s "$tmp/basics.out"
	check "prints its URL as one line on stdout" grep -qx "http://127.0.0.1:[0-9]*" "$tmp/basics.out"
	token; ok "a client secret gets a token" $?
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "$U/t/oauth2/v2.0/token" -d grant_type=client_credentials \
		-d client_id=drover-emulator-client -d client_secret=wrong --data-urlencode scope=https://management.azure.com/.default)
	check "a wrong secret: 401 invalid_client, the secret not echoed" \
		bash -c "[ $S = 401 ] && [ \"\$(jq -r .error '$tmp/body')\" = invalid_client ] && ! grep -q wrong '$tmp/body'"
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "$U/t/oauth2/v2.0/token" -d grant_type=client_credentials \
		-d client_id=nobody -d client_secret=x --data-urlencode scope=https://management.azure.com/.default)
	check "an unknown client: 400 AADSTS700016" bash -c "[ $S = 400 ] && grep -q AADSTS700016 '$tmp/body'"
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST "$U/t/oauth2/v2.0/token" -d grant_type=client_credentials \
		-d client_id=drover-emulator-client --data-urlencode scope=https://management.azure.com/.default \
		-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d client_assertion=aaa.bbb.ccc)
	check "a client assertion that is not a signed JWT: 401 AADSTS50027 (tests/unit/test_emulator.c signs real ones)" \
		bash -c "[ $S = 401 ] && grep -q AADSTS50027 '$tmp/body'"
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' "$U/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/")
	check "IMDS without Metadata: true: 400" is "$S" 400
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Metadata: true" \
		"$U/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/")
	check "IMDS: a token, numbers as strings" bash -c "[ $S = 200 ] && [ \"\$(jq -r '.expires_in|type' '$tmp/body')\" = string ]"
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' "$U$V/replicationJobs?$AV")
	check "no token: 401 AuthenticationFailed" bash -c "[ $S = 401 ] && [ \"\$(jq -r .error.code '$tmp/body')\" = AuthenticationFailed ]"
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer forged" "$U$V/replicationJobs?$AV")
	check "a token it did not issue: 401 InvalidAuthenticationToken" is "$S:$(j .error.code)" 401:InvalidAuthenticationToken
	get "$V/replicationJobs"
	check "no api-version: 400 MissingApiVersionParameter" is "$S:$(j .error.code)" 400:MissingApiVersionParameter
	get "$V/replicationJobs?api-version=2099-01-01"
	check "an unknown api-version: 400 NoRegisteredProviderFound, naming the supported ones" \
		bash -c "[ $S = 400 ] && [ \"\$(jq -r .error.code '$tmp/body')\" = NoRegisteredProviderFound ] && grep -q 2025-08-01 '$tmp/body'"
	get "$V/replicationJobs?api-version=latest"
	check "a malformed api-version: 400 InvalidApiVersionParameter" is "$S:$(j .error.code)" 400:InvalidApiVersionParameter
	get "${V/drover-sim-vault/other-vault}/replicationJobs?$AV"
	check "a wrong vault: 404 ResourceNotFound naming it" bash -c "[ $S = 404 ] && grep -q other-vault '$tmp/body'"
	get "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/drover-sim/providers/Microsoft.RecoveryServices/vaults/drover-sim-vault/replicationJobs?$AV"
	check "a wrong subscription: 404 SubscriptionNotFound" is "$S:$(j .error.code)" 404:SubscriptionNotFound
	get "$V/replicationNothing?$AV"
	check "an unknown route: 404" is "$S" 404
	S=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $T" "$U$V/replicationJobs?$AV")
	check "a method the route does not serve: 405" is "$S" 405
	stop; ok "SIGTERM: exit 0" $?
}

# --- items, paging, case-insensitive paths, recovery points -------------------------------------
items() {
	start items --page-size 4 || return
	token
	get "$V/replicationProtectedItems?$AV"
	check "page 1: 4 items and a nextLink" is "$S $(j '.value|length') $(j '.nextLink|type')" "200 4 string"
	local next; next=$(j .nextLink)
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $T" "$next")
	check "page 2 (the nextLink as given): 2 items, no nextLink" is "$S $(j '.value|length') $(j '.nextLink')" "200 2 null"
	get "$(echo "$V" | tr a-z A-Z | sed 's|API|api|')/REPLICATIONPROTECTEDITEMS?$AV"
	check "path segments compare ignoring case" is "$S $(j '.value|length')" "200 4"
	local id; id=$(item_id shop-web-1)
	get "$id?$AV"
	check "an item by its id (the service's /Subscriptions/ casing)" is "$S $(j .properties.friendlyName)" "200 shop-web-1"
	check "an item shows its A2A details, tags and IPs" is \
		"$(j '.properties.providerSpecificDetails | .instanceType + " " + .vmSyncedConfigDetails.tags.tier + " " + .vmNics[0].ipConfigs[0].staticIPAddress')" \
		"A2A web 10.1.2.4"
	check "allowedOperations of a protected item" is "$(j '.properties.allowedOperations|join(",")')" "UnplannedFailover,TestFailover"
	get "$(echo "$id" | sed 's|westeurope-container|northeurope-container|')?$AV"
	check "an item under another container: 404" is "$S" 404
	get "$(dirname "$id")/shop-web-1?$AV"
	check "a VM's name is not an item's name: 404" is "$S" 404
	get "$id/recoveryPoints?$AV"
	check "24 hours of recovery points, every 5 minutes" bash -c "n=\$(jq '.value|length' '$tmp/body'); [ \$n -ge 287 ] && [ \$n -le 289 ]"
	check "listed unsorted, as the service does" bash -c \
		"jq -r '.value[].properties.recoveryPointTime' '$tmp/body' > '$tmp/t1'; sort '$tmp/t1' > '$tmp/t2'; ! cmp -s '$tmp/t1' '$tmp/t2'"
	local pt; pt=$(j '.value[0].name')
	get "$id/recoveryPoints/$pt?$AV"
	check "a recovery point by name" is "$S $(j .name)" "200 $pt"
	get "$V/replicationPolicies?$AV"
	check "the replication policy" is "$S $(j '.value[0].properties.providerSpecificDetails.instanceType')" "200 A2A"
	get "$V/replicationFabrics/asr-a2a-default-northeurope/replicationProtectionContainers/asr-a2a-default-northeurope-container/replicationProtectionContainerMappings?$AV"
	check "the reverse mapping (northeurope to westeurope) reprotect discovers" \
		is "$S $(j '.value[0].properties.targetFabricFriendlyName')" "200 westeurope"
	stop; ok "stops on SIGTERM with exit 0 (state saved, no leak)" $?
}

# --- the lifecycle over the wire ------------------------------------------------------------------
lifecycle() {
	start life --state "$tmp/life.json" --audit "$tmp/life.audit" || return
	token
	local id db2; id=$(item_id shop-db-1); db2=$(item_id shop-db-2)
	post "$id/failoverCommit?$AV"
	check "commit before a failover: 400, the service's code, causes and recommended action" is \
		"$S $(j '.error.details[0].code') $(j '.error.details[0].recommendedAction|type') $(j '.error.details[0].possibleCauses|type')" \
		"400 OperationNotAllowedInCurrentState string string"
	post "$id/testFailover?$AV" '{"properties":{"failoverDirection":"PrimaryToRecovery","networkType":"VmNetworkAsInput","networkId":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim-northeurope-asr/providers/Microsoft.Network/virtualNetworks/drill","providerSpecificDetails":{"instanceType":"A2A"}}}'
	check "test failover: 202 with Location, Azure-AsyncOperation, Retry-After" bash -c \
		"[ $S = 202 ] && grep -qi '^Location: .*/operationresults/' '$tmp/hdr' && grep -qi '^Azure-AsyncOperation: .*/replicationOperationStatus/' '$tmp/hdr' && grep -qi '^Retry-After: [0-9]' '$tmp/hdr'"
	JOB=$(header Location | sed 's|.*operationresults/||; s|?.*||')
	S=$(curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -H "Authorization: Bearer $T" "$(header Location)")
	check "the Location URL answers 202 while the job runs" is "$S" 202
	wait_job "$JOB"; check "the test failover's job succeeds" is "$S_JOB" Succeeded
	get "$id?$AV"
	check "after test failover: cleanup pending, only TestFailoverCleanup allowed" is \
		"$(j '.properties.testFailoverState') $(j '.properties.allowedOperations|join(",")')" "WaitingForCompletion TestFailoverCleanup"
	op "$id" testFailoverCleanup '{"properties":{"comments":"drill ok"}}'; ok "test failover cleanup" $?
	op "$id" unplannedFailover "$FO" "req-failover-db1"; ok "failover (client request id req-failover-db1)" $?
	check "the job carries the client request id in activityId" bash -c "jq -r .properties.activityId '$tmp/body' | grep -q '^req-failover-db1 '"
	get "$V/replicationJobs/$JOB?$AV"
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $T" "$U$(jq -r .id "$tmp/body" | sed 's|replicationJobs/.*||')replicationOperationStatus/$JOB?$AV")
	check "Azure-AsyncOperation: status Succeeded" is "$S $(j .status)" "200 Succeeded"
	get "$id?$AV"
	check "after failover: active in Recovery, ChangePit/Commit/CancelFailover" is \
		"$(j .properties.activeLocation) $(j '.properties.allowedOperations|join(",")')" "Recovery ChangePit,Commit,CancelFailover"
	get "$(j .properties.failoverRecoveryPointId | sed 's|^/Subscriptions|/subscriptions|')?$AV"
	check "the point a failover to 'latest' made is served by its id (its time gives the RPO)" is \
		"$S $(j '.properties.recoveryPointTime|type')" "200 string"
	get "$id/recoveryPoints?$AV"
	local pt; pt=$(j '[.value[] | select(.properties.recoveryPointType == "ApplicationConsistent")][0].id')
	op "$id" applyRecoveryPoint "{\"properties\":{\"recoveryPointId\":\"$pt\",\"providerSpecificDetails\":{\"instanceType\":\"A2A\"}}}"
	ok "change recovery point to an app-consistent point" $?
	op "$id" failoverCommit ""; ok "commit" $?
	get "$id/recoveryPoints?$AV"
	check "commit deleted the recovery points" is "$(j '.value|length')" 0
	local ctr=${id%/replicationProtectedItems/*}
	get "$V/replicationFabrics/asr-a2a-default-northeurope/replicationProtectionContainers/asr-a2a-default-northeurope-container/replicationProtectionContainerMappings?$AV"
	local target policy; target=$(j '.value[0].properties.targetProtectionContainerId'); policy=$(j '.value[0].properties.policyId')
	post "$ctr/switchprotection?$AV" "{\"properties\":{\"replicationProtectedItemName\":\"${id##*/}\",\"providerSpecificDetails\":{\"instanceType\":\"A2A\",\"recoveryContainerId\":\"$ctr-wrong\",\"policyId\":\"$policy\"}}}"
	check "switch protection to a container that is not the reverse mapping's: 400" is "$S $(j '.error.details[0].code')" "400 InvalidRecoveryContainer"
	post "$ctr/switchprotection?$AV" "{\"properties\":{\"replicationProtectedItemName\":\"${id##*/}\",\"providerSpecificDetails\":{\"instanceType\":\"A2A\",\"recoveryContainerId\":\"$target\",\"policyId\":\"$policy\"}}}"
	check "switch protection (A2A reprotect): 202" is "$S" 202
	JOB=$(header Location | sed 's|.*operationresults/||; s|?.*||')
	wait_job "$JOB"; check "reprotect's job succeeds" is "$S_JOB" Succeeded
	get "$V/replicationJobs/$JOB?$AV"
	local moved; moved=$(j .properties.customDetails.newReplicationProtectedItemId)
	check "switch protection made a new item in the container it now replicates from (SwitchProtectionJobDetails)" \
		is "$(j .properties.customDetails.instanceType) ${moved,,}" \
		"SwitchProtectionJobDetails ${V,,}/replicationfabrics/asr-a2a-default-northeurope/replicationprotectioncontainers/asr-a2a-default-northeurope-container/replicationprotecteditems/${id##*/}"
	get "$id?$AV"
	check "the item's old id answers 404" is "$S $(j '.error.details[0].code')" "404 ReplicationProtectedItemNotFound"
	id=$moved
	get "$id?$AV"
	check "after reprotect: protected, the same lifecycleId, seen from its new primary side (as Azure shows it)" is \
		"$(j .properties.protectionState) $(j .properties.providerSpecificDetails.lifecycleId) $(j .properties.activeLocation) $(j .properties.providerSpecificDetails.primaryFabricLocation) $(j .properties.providerSpecificDetails.recoveryFabricLocation) $(j .properties.providerSpecificDetails.initialPrimaryFabricLocation) $(j .properties.providerSpecificDetails.initialRecoveryFabricLocation)" \
		"Protected ${id##*/} Primary northeurope westeurope westeurope northeurope"
	post "$id/unplannedFailover?$AV" "${FO/PrimaryToRecovery/RecoveryToPrimary}"
	check "failback in the wrong direction for that view (RecoveryToPrimary): 400 InvalidFailoverDirection" is "$S $(j '.error.details[0].code')" "400 InvalidFailoverDirection"
	check "its advice is in the terms of the item as served (ARM's), not the simulator's first-direction ones" is \
		"$(j '.error.details[0].recommendedAction') | $(j '.error.message')" \
		"Send failoverDirection PrimaryToRecovery for this item (from northeurope, where it runs, to westeurope). | The failover direction RecoveryToPrimary doesn't match the item 'shop-db-1', which runs in its primary region (northeurope)."
	post "$id/plannedFailover?$AV" '{"properties":{"failoverDirection":"RecoveryToPrimary"}}'
	check "planned failover of an A2A item: 400 OperationNotSupported" is "$S $(j '.error.details[0].code')" "400 OperationNotSupported"
	post "$db2/unplannedFailover?$AV" "$FO" "req-db2"
	check "another failover accepted" is "$S" 202
	local job2; job2=$(header Location | sed 's|.*operationresults/||; s|?.*||')
	kill -9 "$P"; wait "$P" 2>/dev/null
	check "the accepted failover is in the write-ahead log, not yet in the state file" bash -c \
		"grep -q '\"activity\":\"req-db2\"' '$tmp/life.json.log' && ! grep -q 'req-db2' '$tmp/life.json'"
	printf '{"t":1,"op":"fail' >> "$tmp/life.json.log" # a line torn by the kill: never acknowledged
	start life2 --state "$tmp/life.json" --audit "$tmp/life.audit" || return
	token
	get "$V/replicationJobs/$job2?$AV"
	check "killed (-9) right after a 202, restarted: the job is still there, with its activity id" \
		is "$S $(jq -r '.properties.activityId|split(" ")[0]' "$tmp/body")" "200 req-db2"
	get "$id?$AV"
	check "restarted: the first item's state is kept" is "$(j .properties.protectionState) $(j .properties.activeLocation)" "Protected Primary"
	get "$V/replicationJobs?$AV&%24filter=$(printf %s "startTime eq '2000-01-01T00:00:00Z' and jobStatus eq 'Succeeded'" | jq -sRr @uri)"
	check "jobs listed with a \$filter, newest first" bash -c \
		"[ $S = 200 ] && [ \$(jq '.value|length' '$tmp/body') -ge 5 ] && jq -e '[.value[].properties.startTime] | . == (sort|reverse)' '$tmp/body' >/dev/null"
	stop; ok "SIGTERM after the restart: exit 0" $?
	check "stopped: the state file holds everything, the log is empty" bash -c \
		"[ ! -s '$tmp/life.json.log' ] && grep -q 'req-db2' '$tmp/life.json'"
	echo '{"not":"a line of the log"}' > "$tmp/life.json.log"
	"$drover" emulator --state "$tmp/life.json" >/dev/null 2>"$tmp/err"
	check "a corrupt log: exit 2, naming the file and the line" bash -c "[ $? = 2 ] && grep -q 'life.json.log.* line 1' '$tmp/err'"
	check "audit: one line per mutating call (7 accepted, refusals kept with their code)" bash -c \
		"[ \$(grep -c '\"accepted\":true' '$tmp/life.audit') = 7 ] && grep -q '\"code\":\"OperationNotAllowedInCurrentState\"' '$tmp/life.audit' && grep -q '\"clientRequestId\":\"req-failover-db1\"' '$tmp/life.audit'"
	check "audit: every line is JSON with time, method, path, status" bash -c \
		"jq -e 'select(.time and .method and .path and has(\"status\") and has(\"accepted\"))' '$tmp/life.audit' | grep -c '\"method\"' | grep -qx \$(wc -l < '$tmp/life.audit')"
}

# --- Compute and Network --------------------------------------------------------------------------
compute() {
	start compute --faults '[{kind: forbidden, api: all, vms: "^shop-app-2"}]' || return
	token
	local vm=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim-westeurope/providers/Microsoft.Compute/virtualMachines
	get "$vm/shop-web-2?api-version=2024-07-01&\$expand=instanceView"
	check "a VM with its instance view: running, agent ready, tags" is \
		"$S $(j '.properties.instanceView.statuses[1].code') $(j '.properties.instanceView.vmAgent.statuses[0].displayStatus') $(j .tags.tier)" \
		"200 PowerState/running Ready web"
	get "${vm/virtualMachines/}virtualMachines/shop-web-2?api-version=2025-08-01"
	check "Compute has its own api-versions" is "$S" 400
	get "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim-westeurope/providers/Microsoft.Network/networkInterfaces/shop-web-2-nic?api-version=2024-05-01"
	check "its network interface: the private IP" is "$S $(j '.properties.ipConfigurations[0].properties.privateIPAddress')" "200 10.1.2.5"
	get "$vm/shop-app-2?api-version=2024-07-01"
	check "fault forbidden: 403 AuthorizationFailed" is "$S $(j .error.code)" "403 AuthorizationFailed"
	get "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim-northeurope-asr/providers/Microsoft.Compute/virtualMachines/shop-web-2?api-version=2024-07-01"
	check "the failed-over VM before a failover: 404" is "$S $(j .error.code)" "404 ResourceNotFound"
	post "$vm/shop-web-2/powerOff?api-version=2024-07-01"
	check "power off: 202 with Azure-AsyncOperation" bash -c "[ $S = 202 ] && grep -qi '^Azure-AsyncOperation: .*/operations/' '$tmp/hdr'"
	local aop; aop=$(header Azure-AsyncOperation)
	wait_until op_ended "$aop"
	check "the power-off operation succeeds" is "$(j .status)" Succeeded
	get "$vm/shop-web-2/instanceView?api-version=2024-07-01"
	check "then the VM is deallocated" is "$(j '.statuses[1].code')" PowerState/deallocated
	stop; ok "stops on SIGTERM with exit 0 (state saved, no leak)" $?
}

# --- throttling and faults --------------------------------------------------------------------------
faults() {
	start limits || return
	token
	local urls=() i
	for i in $(seq 400); do urls+=("$U$V/replicationPolicies?$AV"); done
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $T" "${urls[@]}" > "$tmp/codes"
	check "ARM's read bucket: 429s after a burst of 250 reads" bash -c "[ \$(grep -c 429 '$tmp/codes') -ge 20 ] && [ \$(grep -c 200 '$tmp/codes') -ge 250 ]"
	get "$V/replicationPolicies?$AV"
	check "a 429 says when to come back (Retry-After)" bash -c "[ $S != 429 ] || grep -qi '^Retry-After: [1-9]' '$tmp/hdr'"
	stop; ok "stops on SIGTERM with exit 0 (state saved, no leak)" $?
	start faults --seed 7 --faults '[{kind: status, code: 503, path: "replicationJobs$", burst: 2},
		{kind: reset, path: "recoveryPoints$", times: 1}, {kind: delay, delay: 300ms, path: "replicationPolicies"},
		{kind: hang, op: failover, vms: "^shop-web-1$"}, {kind: fail, op: failover, at: job, vms: "^shop-web-2$"},
		{kind: status, code: 500, at: after, path: "shop-nothing", times: 1},
		{kind: reset, at: after, method: POST, path: "unplannedFailover$", times: 1}]' --audit "$tmp/faults.audit" || return
	token
	get "$V/replicationJobs?$AV"; local a=$S; get "$V/replicationJobs?$AV"; local b=$S; get "$V/replicationJobs?$AV"
	check "a 503 burst of 2, then answers" is "$a $b $S" "503 503 200"
	local id; id=$(item_id shop-db-1)
	curl -s -o /dev/null -H "Authorization: Bearer $T" "$U$id/recoveryPoints?$AV"
	check "a connection reset (curl fails with no answer)" [ $? -ne 0 ]
	local t0 t1; t0=$(date +%s%N); get "$V/replicationPolicies?$AV"; t1=$(date +%s%N)
	check "a slow answer (delay 300ms)" [ $(((t1 - t0) / 1000000)) -ge 290 ]
	post "$id/unplannedFailover?$AV" "$FO" "lost-answer"
	check "a reset after the failover was accepted: the client hears nothing" is "$S" 000
	get "$id?$AV"
	check "... but the service started it (currentScenario)" is "$(j .properties.currentScenario.scenarioName)" UnplannedFailover
	check "... and the audit log says so" grep -q '"clientRequestId":"lost-answer","status":null,"accepted":true' "$tmp/faults.audit"
	local web1 web2; web1=$(item_id shop-web-1); web2=$(item_id shop-web-2)
	post "$web2/unplannedFailover?$AV" "$FO"
	JOB=$(header Location | sed 's|.*operationresults/||; s|?.*||')
	wait_job "$JOB"; check "a failed job (fault fail at: job)" is "$S_JOB $(j '.properties.errors|length>0')" "Failed true"
	S=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $T" "$U$web2/operationresults/$JOB?$AV")
	check "its Location URL answers the job's error" bash -c "[ $S -ge 400 ] && [ \"\$(jq -r '.error.details[0].code' '$tmp/body')\" != null ]"
	post "$web1/unplannedFailover?$AV" "$FO"
	JOB=$(header Location | sed 's|.*operationresults/||; s|?.*||')
	sleep 1.5; get "$V/replicationJobs/$JOB?$AV"
	check "a hung job stays InProgress" is "$(j .properties.state)" InProgress
	stop; ok "stops on SIGTERM with exit 0 (state saved, no leak)" $?
	# the token's first use comes right after it is issued: 4s is time enough on a loaded machine
	start expiry --faults '[{kind: token-expiry, lifetime: 4s}]' || return
	token; get "$V/replicationPolicies?$AV"; a=$S
	sleep 4.2; get "$V/replicationPolicies?$AV"
	check "token expiry: accepted, then 401 ExpiredAuthenticationToken" is "$a $S $(j .error.code)" "200 401 ExpiredAuthenticationToken"
	token; get "$V/replicationPolicies?$AV"
	check "a new token works" is "$S" 200
	stop; ok "stops on SIGTERM with exit 0 (state saved, no leak)" $?
}

# --- the OpenAPI contract checker -----------------------------------------------------------------------
contract() {
	start contract --contract "$ref/asr-openapi-2025-08-01.json" || return
	token
	local id; id=$(item_id shop-app-1)
	check "valid requests pass the contract" is "$(echo "$id" | grep -c replicationProtectedItems)" 1
	post "$id/unplannedFailover?$AV" '{"properties":{"failoverDirection":"PrimaryToRecovery","providerSpecificDetails":{"instanceType":"A3A"}}}'
	check "a body the contract refuses (unknown instanceType): 400 ContractViolation naming it" bash -c \
		"[ $S = 400 ] && [ \"\$(jq -r .error.code '$tmp/body')\" = ContractViolation ] && grep -q 'A3A' '$tmp/body' && grep -q 'not a subtype of UnplannedFailoverProviderSpecificInput' '$tmp/body'"
	post "$id/unplannedFailover?$AV" '{"properties":{"failoverDirecton":"PrimaryToRecovery"}}'
	check "a misspelt property: 400 naming it" bash -c "[ $S = 400 ] && grep -q 'failoverDirecton' '$tmp/body'"
	post "$id/testFailoverCleanup?$AV"
	check "a missing required body: 400" bash -c "[ $S = 400 ] && grep -q 'requires a body' '$tmp/body'"
	get "$id?api-version=2024-04-01"
	check "an api-version other than the contract's: 400" bash -c "[ $S = 400 ] && grep -q 'contract' '$tmp/body'"
	get "$V/replicationJobs?$AV&\$top=3"
	check "an undeclared query parameter: 400" bash -c "[ $S = 400 ] && grep -q 'top' '$tmp/body'"
	check "violations are logged on stderr" grep -q "contract:" "$tmp/contract.err"
	op "$id" unplannedFailover "$FO"; ok "a valid failover passes the contract" $?
	stop; ok "SIGTERM: exit 0" $?
}

# --- bad options -------------------------------------------------------------------------------------------
options() {
	"$drover" emulator --listen 0.0.0.0:0 >/dev/null 2>"$tmp/err"
	check "a non-loopback address: exit 2, says why" bash -c "[ $? = 2 ] && grep -q loopback '$tmp/err'"
	"$drover" emulator --faults '[{kind: resett}]' >/dev/null 2>"$tmp/err"
	check "a fault spec mistake: exit 2, a diagnostic with a position and a hint" bash -c \
		"[ $? = 2 ] && grep -q -- '--faults:1:9' '$tmp/err' && grep -q \"did you mean 'reset'\" '$tmp/err'"
	"$drover" emulator --inventory "$tmp/none.yaml" >/dev/null 2>"$tmp/err"
	check "a missing inventory: exit 2" [ $? = 2 ]
	"$drover" emulator --help | grep -q -- "--contract FILE"; ok "--help lists the options" $?
	echo '{"swagger": "1.0"}' > "$tmp/not-a-contract.json"
	"$drover" emulator --contract "$tmp/not-a-contract.json" >/dev/null 2>"$tmp/err"
	check "a file that is not an OpenAPI 2.0 contract: exit 2, says so" bash -c "[ $? = 2 ] && grep -q 'not an OpenAPI 2.0' '$tmp/err'"
	"$drover" emulator --client nosecret >/dev/null 2>"$tmp/err"
	check "--client without a secret: exit 2" bash -c "[ $? = 2 ] && grep -q 'CLIENT_ID:SECRET' '$tmp/err'"
	start rb --inventory "$here/../../examples/quickstart.yaml" || return
	token
	get "$V/replicationProtectedItems?$AV"
	check "--inventory RUNBOOK: the runbook's own VMs" is "$(j '.value|length') $(j '.value[0].properties.friendlyName')" "6 shop-db-1"
	kill -INT "$P"; wait "$P"; ok "SIGINT: exit 0" $?
	printf 'vms:\n  - {name: app-1, tags: {tier: app}}\n  - {name: app-2}\n' > "$tmp/inv.yaml"
	start inv --inventory "$tmp/inv.yaml" --vault my-vault --resource-group my-rg || return
	token
	get "${V/drover-sim-vault/my-vault}/replicationProtectedItems?$AV"
	check "its own vault name is refused for another resource group" is "$S" 404
	get "$(echo "$V" | sed 's|drover-sim/|my-rg/|; s|drover-sim-vault|my-vault|')/replicationProtectedItems?$AV"
	check "--inventory and --vault/--resource-group: the vault serves those VMs" is "$S $(j '[.value[].properties.friendlyName]|join(",")')" "200 app-1,app-2"
	stop; ok "stops on SIGTERM with exit 0 (state saved, no leak)" $?
}

all="basics items lifecycle compute faults contract options"
for scenario in ${*:-$all}; do
	"$scenario"
	stop_all; pids=
	for f in "$tmp"/*.err; do # a sanitizer's report or a crash of any emulator fails the scenario
		[ -f "$f" ] && grep -qE 'Sanitizer|runtime error|Assertion|free\(\)' "$f" || continue
		ok "no sanitizer report from $(basename "$f" .err)" 1; head -40 "$f"
	done
	rm -f "$tmp"/*.err
done
echo "emulator: $pass passed, $fail failed"
[ "$fail" = 0 ]
