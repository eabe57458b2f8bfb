#!/usr/bin/env bash
# The Azure backend end to end: real `drover` runs with `backend: {kind:
# azure}` against a real `drover emulator` process on loopback (port 0, a
# free one), always with --contract, so that every request drover sends is
# checked against Microsoft's OpenAPI contract; jq reads what they leave.
#
#   tests/azure/run.sh DROVER          ends with "azure: N passed, M failed"
#   tests/azure/run.sh DROVER NAME...  only those scenarios
#
# Scenarios: the lifecycle (plan, drill, failover, change of recovery point,
# commit, reprotect, failback) with the same outcome as on the simulator; a
# soak with 20% of the calls answered 429, 503 or reset; tokens that die
# mid-run; the emulator killed and restarted mid-run; drover killed and
# resumed; and the errors a user meets first (bad credentials, wrong vault,
# unknown api-version, an operation the state forbids). After each, the
# service's own jobs say every operation was accepted once per VM.
#
# The emulator runs at --speed 6000 (a 5-minute failover takes 50 ms), or
# slower where a kill must land while operations run. Files live in a mktemp folder; every process started here is
# stopped here.
set -u
drover=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
ref=$("$here/../reference-dir.sh") || { echo "azure: 0 passed, 1 failed (no reference material)"; exit 1; }
contract=$ref/asr-openapi-2025-08-01.json
tmp=$(mktemp -d); trap 'stop_all; rm -rf "$tmp"' EXIT
pass=0 fail=0 scenario= pids=
V=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim/providers/Microsoft.RecoveryServices/vaults/drover-sim-vault
AV=api-version=2025-08-01
unset DROVER_SIM_STATE DROVER_SIM_FAULTS DROVER_STATE_DIR DROVER_CLOCK AZURE_CLIENT_CERTIFICATE_PATH \
	AZURE_FEDERATED_TOKEN_FILE AZURE_POD_IDENTITY_AUTHORITY_HOST http_proxy https_proxy all_proxy
. "$here/../wait.sh"
export NO_COLOR=1 AZURE_TENANT_ID=tenant-1 AZURE_CLIENT_ID=drover-emulator-client AZURE_CLIENT_SECRET=drover-emulator-secret

ok() { # ok DESCRIPTION STATUS
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL azure $scenario: $1"; fi
}
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	"$@"; ok "$d" $?
}
is() { [ "$1" = "$2" ] || { echo "    got '$1', expected '$2'"; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "    '$2' not in $1:"; sed 's/^/      /' "$1" | head -20; return 1; }; }
hasnt() { ! grep -q -- "$2" "$1" || { echo "    '$2' in $1:"; grep -- "$2" "$1" | head -5 | sed 's/^/      /'; return 1; }; }
stop_all() { local p; for p in $pids; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; }

# The runbooks: the simulator's as written, and the same with the azure backend (the emulator's vault).
variants() { # variants NAME: $tmp/NAME-sim.yaml and $tmp/NAME-azure.yaml
	cp "$here/$1.yaml" "$tmp/$1-sim.yaml"
	awk '/^# BEGIN BACKEND/ { print "backend:\n  kind: azure\n  subscription: 00000000-0000-0000-0000-000000000000\n  resource_group: drover-sim\n  vault: drover-sim-vault\n  endpoint: ${env.EMU_URL}\n  credential: client_secret"; skip = 1; next }
		/^# END BACKEND/ { skip = 0; next } !skip' "$here/$1.yaml" > "$tmp/$1-azure.yaml"
}

# start NAME [OPTIONS...]: an emulator serving the runbooks' VMs, its contract checked, at $SPEED
# (default 6000: a failover in a tenth of a second); U (its URL), P (its pid).
start() {
	local name=$1; shift
	rm -f "$tmp/$name.url"
	"$drover" emulator --speed "${SPEED:-6000}" --port-file "$tmp/$name.url" --inventory "$here/soak.yaml" \
		--contract "$contract" --state "$tmp/$name.state" --audit "$tmp/$name.audit" "$@" \
		>>"$tmp/$name.out" 2>>"$tmp/$name.err" &
	P=$!; pids="$pids $P"
	wait_until -p "$P" test -s "$tmp/$name.url"
	U=$(cat "$tmp/$name.url" 2>/dev/null)
	[ -n "$U" ] || { ok "emulator $name starts" 1; sed 's/^/      /' "$tmp/$name.err"; return 1; }
	export EMU_URL=$U AZURE_AUTHORITY_HOST=$U
}
stop() { kill -TERM "$P" 2>/dev/null; wait "$P" 2>/dev/null; }
# calm NAME: the same emulator again (its state kept) without faults, to read what it did undisturbed.
calm() { stop; start "$1"; }

# dr ARGS...: drover with its output in $tmp/out (stdout and stderr), its exit status in RC.
dr() { "$drover" "$@" >"$tmp/out" 2>&1; RC=$?; }

token() {
	T=$(curl -s -X POST "$U/tenant-1/oauth2/v2.0/token" -d grant_type=client_credentials \
		-d client_id=drover-emulator-client -d client_secret=drover-emulator-secret \
		--data-urlencode scope=https://management.azure.com/.default | jq -r .access_token)
}

# jobs: every job of the vault ("VM scenario state" lines, all pages) into $tmp/jobs.
jobs() {
	local url="$U$V/replicationJobs?$AV"
	token
	: >"$tmp/jobs"
	while [ -n "$url" ] && [ "$url" != null ]; do
		curl -s -o "$tmp/page" -H "Authorization: Bearer $T" "$url"
		jq -r '.value[] | "\(.properties.targetObjectName) \(.properties.scenarioName) \(.properties.state)"' \
			"$tmp/page" >>"$tmp/jobs"
		url=$(jq -r .nextLink "$tmp/page")
	done
}
job_done() { jobs && grep -q "^$1 $2 Succeeded$" "$tmp/jobs"; } # job_done VM SCENARIO: its job succeeded
# once SCENARIO N: each of the six VMs has exactly N jobs of that scenario (accepted N times).
once() {
	local vm n
	for vm in shop-db-1 shop-db-2 shop-app-1 shop-app-2 shop-web-1 shop-web-2; do
		n=$(grep -c "^$vm $1 " "$tmp/jobs")
		[ "$n" = "$2" ] || { echo "    $vm: $n $1 jobs, expected $2"; return 1; }
	done
}
# accepted AUDIT: accepted calls in the audit log; every one started a job the service lists.
accepted() { jq -s '[.[] | select(.accepted)] | length' "$1"; }
accepted_some() { [ "$(accepted "$1")" -ge "$2" ]; } # accepted_some AUDIT N: at least N accepted calls
no_violation() { hasnt "$1" "contract:"; }

# The outcome of the latest run in a state directory: step states and task states, sorted.
outcome() { # outcome STATE_DIR FILE
	"$drover" status --state-dir "$1" --format json >"$tmp/status.json" 2>/dev/null
	jq -S '{status, steps: [.steps[] | {step, state, tasks}], tasks: ([.tasks[] | {step, target, state}] | sort_by(.step, .target))}' \
		"$tmp/status.json" >"$2"
}
same() { diff -u "$1" "$2" | head -30; cmp -s "$1" "$2"; }

# served FILE: every item as the service serves it now (one JSON object a line).
served() {
	token
	curl -s -H "Authorization: Bearer $T" "$U$V/replicationProtectedItems?$AV" | jq -c '.value[]' >"$1"
}
# What side of an item the service shows: its container, primary, recovery and initial primary region,
# activeLocation, the container it replicates to, and whether it may fail over.
side='[(.id | capture("containers/asr-a2a-default-(?<c>[a-z]+-container)/"; "i").c),
	.properties.providerSpecificDetails.primaryFabricLocation, .properties.providerSpecificDetails.recoveryFabricLocation,
	.properties.providerSpecificDetails.initialPrimaryFabricLocation, .properties.activeLocation,
	(.properties.recoveryContainerId | capture("asr-a2a-default-(?<c>[a-z]+-container)$"; "i").c),
	(.properties.allowedOperations | index("UnplannedFailover") != null)]'
# directions ITEMS OPERATION REGION: "N DIRECTION" of the accepted OPERATION POSTs on items in REGION's
# container, each checked against ITEMS (the items as served before the POSTs): the direction that takes the VM to
# its initial primary (failback: from a reprotected item) or initial recovery region (failover, drill).
directions() {
	jq -s -r --arg op "$2" --arg region "$3" --slurpfile items "$1" '
		($items | map({key: (.id | ascii_downcase | sub(".*/"; "")), value: .properties.providerSpecificDetails})
		 | from_entries) as $psd
		| [.[] | select(.accepted and (.path | test("asr-a2a-default-" + $region + "-container/.*/" + $op + "$"; "i")))
		   | (.path | ascii_downcase | split("/") | .[-2]) as $name
		   | .failoverDirection as $sent
		   | (if $region == "northeurope" then $psd[$name].initialPrimaryFabricLocation
		      else $psd[$name].initialRecoveryFabricLocation end) as $goal
		   | if $psd[$name] == null then "unknown item"
		     elif ($psd[$name].recoveryFabricLocation == $goal) != ($sent == "PrimaryToRecovery") then "wrong: " + $sent
		     else $sent end]
		| group_by(.) | map("\(length) \(.[0])") | join(", ")' "$tmp/lc.audit"
}

# --- the lifecycle, as on the simulator -----------------------------------------------------------
lifecycle() {
	variants lifecycle
	start lc || return
	local sim=$tmp/lc-sim az=$tmp/lc-az
	dr validate "$tmp/lifecycle-azure.yaml"; check "validate" is "$RC" 0
	dr plan --state-dir "$az" "$tmp/lifecycle-azure.yaml"
	check "plan: runnable, read-only" bash -c "[ $RC = 0 ] && grep -q 'The plan is runnable' '$tmp/out'"
	check "plan: every VM with its state and point" bash -c "[ \$(grep -c '  shop-.*protected  *Primary  *latest-processed' '$tmp/out') = 6 ]"
	check "plan sent nothing that changes the service" is "$(accepted "$tmp/lc.audit")" 0

	served "$tmp/first.json"
	check "before: each item served from its first primary side" \
		is "$(jq -c "$side" "$tmp/first.json" | sort -u)" \
		'["westeurope-container","westeurope","northeurope","westeurope","Primary","northeurope-container",true]'
	dr drill --state-dir "$sim" "$tmp/lifecycle-sim.yaml"; outcome "$sim" "$tmp/drill-sim"
	dr drill --state-dir "$az" "$tmp/lifecycle-azure.yaml"; check "drill succeeds" is "$RC" 0
	outcome "$az" "$tmp/drill-az"
	check "drill: the same outcome as on the simulator" same "$tmp/drill-sim" "$tmp/drill-az"

	dr run --yes --state-dir "$sim" "$tmp/lifecycle-sim.yaml"; outcome "$sim" "$tmp/run-sim"
	dr run --yes --state-dir "$az" "$tmp/lifecycle-azure.yaml"; check "failover run succeeds" is "$RC" 0
	cp "$tmp/out" "$tmp/run-az.log"
	outcome "$az" "$tmp/run-az"
	check "failover, change of point, commit, reprotect: the same outcome as on the simulator" same "$tmp/run-sim" "$tmp/run-az"
	check "the request id of each operation is in the events" has "$tmp/run-az.log" "started: job .* (request id [0-9a-f-]\{36\})"

	served "$tmp/reprotected.json"
	check "reprotected: each item served from its new primary side (container, fabrics, activeLocation, operations)" \
		is "$(jq -c "$side" "$tmp/reprotected.json" | sort -u)" \
		'["northeurope-container","northeurope","westeurope","westeurope","Primary","westeurope-container",true]'
	dr failback --yes --param recovery_point=latest --state-dir "$sim" "$tmp/lifecycle-sim.yaml"; outcome "$sim" "$tmp/fb-sim"
	dr failback --yes --param recovery_point=latest --state-dir "$az" "$tmp/lifecycle-azure.yaml"
	check "failback succeeds" is "$RC" 0
	check "failback: each POST's failoverDirection takes the VM to its first primary region, as the item was served" \
		is "$(directions "$tmp/reprotected.json" unplannedFailover northeurope)" "6 PrimaryToRecovery"
	check "failover and drill: PrimaryToRecovery from the first view" \
		is "$(directions "$tmp/first.json" unplannedFailover westeurope) $(directions "$tmp/first.json" testFailover westeurope)" \
		"6 PrimaryToRecovery 6 PrimaryToRecovery"
	served "$tmp/back.json"
	check "reprotected again: each item served from its first primary side" \
		is "$(jq -c "$side" "$tmp/back.json" | sort -u)" \
		'["westeurope-container","westeurope","northeurope","westeurope","Primary","northeurope-container",true]'
	outcome "$az" "$tmp/fb-az"
	check "failback: the same outcome as on the simulator" same "$tmp/fb-sim" "$tmp/fb-az"

	jobs
	check "drill: one test failover and one cleanup per VM" bash -c "$(declare -f once); tmp=$tmp; once TestFailover 1 && once TestFailoverCleanup 1"
	check "one failover per VM per direction" bash -c "$(declare -f once); tmp=$tmp; once UnplannedFailover 2"
	check "one commit and one reprotect per VM per direction" bash -c "$(declare -f once); tmp=$tmp; once CommitFailover 2 && once Reprotect 2"
	check "one change of recovery point per database" is "$(grep -c 'ChangeRecoveryPoint' "$tmp/jobs")" 2
	check "every accepted call is one of the service's jobs" is "$(accepted "$tmp/lc.audit")" "$(wc -l <"$tmp/jobs")"
	dr plan --state-dir "$az" "$tmp/lifecycle-azure.yaml"
	check "back where it started: every VM protected on the primary side" \
		bash -c "[ \$(grep -c '  shop-.*protected  *Primary' '$tmp/out') = 6 ]"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/lc.err"
	stop
}

# --- a bad day: 20% of the calls throttled, failing or reset -----------------------------------------
soak() {
	variants soak
	start soak --faults '[{kind: status, code: 429, probability: 0.08, retry_after: 1s},
		{kind: status, code: 503, probability: 0.04}, {kind: reset, probability: 0.04},
		{kind: status, code: 500, method: POST, at: after, probability: 0.04}]' || return
	local t0=$SECONDS
	dr run --state-dir "$tmp/soak" --events "$tmp/soak.events" "$tmp/soak-azure.yaml"
	check "the run completes through 429s, 5xx and resets (exit $RC)" is "$RC" 0
	# a failure says which call failed, with which error and retry decision (the audit: what the service did)
	[ "$RC" = 0 ] || { tail -20 "$tmp/out"; jq -c 'select(.accepted == true or .status >= 400) | {method, status, code, clientRequestId}' "$tmp/soak.audit" | tail -20; }
	check "in bounded time ($((SECONDS - t0)) s)" [ $((SECONDS - t0)) -lt 90 ]
	local most
	most=$(jq -s '[.[] | select(.event == "task.start") | .attempt] | max // 0' "$tmp/soak.events")
	check "retries bounded: at most 12 attempts per task, the step's retry: (the most: $most)" [ "$most" -le 12 ]
	calm soak
	jobs
	check "one failover, one commit, one reprotect per VM" \
		bash -c "$(declare -f once); tmp=$tmp; once UnplannedFailover 1 && once CommitFailover 1 && once Reprotect 1"
	check "every accepted call is one job (none twice)" is "$(accepted "$tmp/soak.audit")" "$(wc -l <"$tmp/jobs")"
	check "faults did happen" bash -c "[ \$(jq -s '[.[] | select(.status == 500 or .status == null)] | length' '$tmp/soak.audit') -gt 0 ]"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/soak.err"
	stop
}

# --- tokens that die after a quarter of a second although they say an hour ----------------------------
token_expiry() {
	variants soak
	SPEED=600 start tok --faults '[{kind: token-expiry, lifetime: 250ms}]' || return
	local t0=$SECONDS
	dr run --state-dir "$tmp/tok" "$tmp/soak-azure.yaml"
	check "the run goes on with fresh tokens after 401s (exit $RC)" is "$RC" 0
	# every call needs a live token: a run this long without renewing would have failed at 250 ms
	check "  for much longer than a token lives ($((SECONDS - t0)) s)" [ $((SECONDS - t0)) -ge 1 ]
	calm tok
	jobs
	check "nothing repeated" bash -c "$(declare -f once); tmp=$tmp; once UnplannedFailover 1 && once CommitFailover 1"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/tok.err"
	stop
}

# --- the emulator killed and restarted while operations run ------------------------------------------------
emulator_restart() {
	variants soak
	SPEED=600 start er || return
	local port=${U##*:}
	"$drover" run --state-dir "$tmp/er" "$tmp/soak-azure.yaml" >"$tmp/er.log" 2>&1 &
	local run=$!
	pids="$pids $run"
	wait_until -p "$run" accepted_some "$tmp/er.audit" 6
	kill -KILL "$P"; wait "$P" 2>/dev/null
	sleep 0.3
	SPEED=600 start er --listen "127.0.0.1:$port" || return
	wait "$run"; RC=$?
	check "the run survives the service going away mid-failover (exit $RC)" is "$RC" 0
	[ "$RC" = 0 ] || tail -15 "$tmp/er.log"
	jobs
	check "one failover, commit, reprotect per VM" \
		bash -c "$(declare -f once); tmp=$tmp; once UnplannedFailover 1 && once CommitFailover 1 && once Reprotect 1"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/er.err"
	stop
}

# --- drover killed mid-run and resumed: nothing repeated ---------------------------------------------------
drover_killed() {
	variants soak
	SPEED=600 start dk || return
	"$drover" run --state-dir "$tmp/dk" "$tmp/soak-azure.yaml" >"$tmp/dk.log" 2>&1 &
	local run=$!
	wait_until -p "$run" accepted_some "$tmp/dk.audit" 3
	kill -KILL "$run"; wait "$run" 2>/dev/null
	local id
	id=$(ls "$tmp/dk/runs" | head -1)
	dr resume --state-dir "$tmp/dk" "$id"
	check "resume finishes the run (exit $RC)" is "$RC" 0
	[ "$RC" = 0 ] || tail -15 "$tmp/out"
	check "the probes found the operations in flight in the service" has "$tmp/out" "the service says it"
	jobs
	check "nothing repeated: one failover, commit, reprotect per VM" \
		bash -c "$(declare -f once); tmp=$tmp; once UnplannedFailover 1 && once CommitFailover 1 && once Reprotect 1"
	check "every accepted call is one job" is "$(accepted "$tmp/dk.audit")" "$(wc -l <"$tmp/jobs")"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/dk.err"
	stop
}

# --- the errors people meet first --------------------------------------------------------------------------
errors() {
	variants soak
	start errs || return
	AZURE_CLIENT_SECRET=not-the-secret dr plan --state-dir "$tmp/e" "$tmp/soak-azure.yaml"
	check "bad credentials: refused, exit 2" is "$RC" 2
	check "bad credentials: the service's code" has "$tmp/out" "invalid_client AADSTS7000215"
	check "bad credentials: the credential tried" has "$tmp/out" "client secret (tenant tenant-1, client drover-emulator-client)"
	check "bad credentials: what to do" has "$tmp/out" "Recommended action: Fix the credential"
	check "bad credentials: the secret is never shown" hasnt "$tmp/out" "not-the-secret"

	sed 's/vault: drover-sim-vault/vault: no-such-vault/' "$tmp/soak-azure.yaml" >"$tmp/wrong-vault.yaml"
	dr plan --state-dir "$tmp/e" "$tmp/wrong-vault.yaml"
	check "wrong vault: the service's code and what to check" \
		has "$tmp/out" "ResourceNotFound: .*no-such-vault.*Recommended action: Check backend.subscription, backend.resource_group and backend.vault"

	sed 's/  credential: client_secret/  credential: client_secret\n  api_version: "2099-01-01"/' "$tmp/soak-azure.yaml" >"$tmp/bad-api.yaml"
	dr plan --state-dir "$tmp/e" "$tmp/bad-api.yaml"
	check "unknown api-version: the supported ones and what to set" \
		has "$tmp/out" "NoRegisteredProviderFound: .*2025-08-01.*Recommended action: Set backend.api_version"

	# an operation the state forbids: someone else fails shop-db-1 over after drover's preflight passed (while
	# the run waits at a gate, then approved)
	cat >"$tmp/forbidden.yaml" <<-EOF
	drover: 1
	name: forbidden
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	vm_sets: { db: { match: { name: "^shop-db-1\$" } } }
	steps:
	  - { id: wait, action: approve, with: { message: "go on?" } }
	  - { id: failover, action: dr.failover, targets: db, needs: wait, with: { shutdown_source: false } }
	EOF
	"$drover" run --state-dir "$tmp/f" --run-id forbidden-1 "$tmp/forbidden.yaml" >"$tmp/forbidden.log" 2>&1 </dev/null &
	local run=$!
	pids="$pids $run"
	wait_line -p "$run" '"event":"approval.request"' "$tmp/f/runs/forbidden-1/journal.jsonl"
	token
	local id
	id=$(curl -s -H "Authorization: Bearer $T" "$U$V/replicationProtectedItems?$AV" |
		jq -r '.value[] | select(.properties.friendlyName == "shop-db-1") | .id')
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $T" -H "Content-Type: application/json" \
		-d '{"properties":{"failoverDirection":"PrimaryToRecovery","sourceSiteOperations":"NotRequired","providerSpecificDetails":{"instanceType":"A2A"}}}' \
		"$U$id/unplannedFailover?$AV"
	wait_until job_done shop-db-1 UnplannedFailover
	"$drover" approve --state-dir "$tmp/f" forbidden-1 wait >/dev/null
	wait "$run"; RC=$?
	check "a state that forbids the operation: the run fails (exit $RC)" is "$RC" 1
	check "  with the service's code, causes and recommended action, verbatim" \
		has "$tmp/forbidden.log" "OperationNotAllowedInCurrentState: .*Possible causes: .*Recommended action: "
	check "  and the request id drover sent" has "$tmp/forbidden.log" "request id [0-9a-f-]\{36\}"
	check "  permanent: not retried" hasnt "$tmp/forbidden.log" "attempt 2"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/errs.err"
	stop
	# a proxy answers the vault's list with its login page (200, HTML): an error saying so, not an empty vault
	start proxy --faults '[{kind: status, code: 200, method: GET, path: "replicationProtectedItems$",
		body: "<html><body>Sign in to the Contoso proxy</body></html>"}]' || return
	dr plan --state-dir "$tmp/e" "$tmp/soak-azure.yaml"
	check "a proxy's 200 login page for the list: refused, exit 2 (got $RC)" is "$RC" 2
	check "  saying what came back and where to look" \
		has "$tmp/out" "BadResponse: The service answered HTTP 200 to GET .*replicationProtectedItems?api-version=2025-08-01 with a body that is not JSON: '<html><body>Sign in to the Contoso proxy</body></html>'.*Recommended action: Check the network path to backend.endpoint"
	stop
}

# Secrets that flow into the service's request bodies (a drill's network, a cleanup's comments) and
# into an error the service echoes back (a vault name it does not know): the service gets the real
# values; nothing drover writes holds one, nor its base64 or URL-encoded form.
secrets() {
	start sec || return
	local net=Vn3tSecretA-Vn3tSecretB note='n0te s3cret/Zeta+Q' vault=V4ultS3cret-x d=$tmp/sec
	mkdir -p "$d"
	cat >"$d/sec.yaml" <<-EOF
	drover: 1
	name: azure-secrets
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	secrets: { net: { env: AZ_NET }, note: { env: AZ_NOTE } }
	vm_sets: { db: { match: { name: "^shop-db-1\$" } } }
	steps:
	  - { id: drill, action: dr.test_failover, targets: db, with: { network: "\${secrets.net}" } }
	  - { id: refuse, action: fail, needs: drill, on_failure: continue, with: { message: "no \${secrets.note}" } }
	finally:
	  - { id: cleanup, action: dr.test_cleanup, targets: db, with: { comments: "done \${secrets.note}" } }
	EOF
	sed 's/vault: drover-sim-vault/vault: "${secrets.vault}"/; s/secrets: { net/secrets: { vault: { env: AZ_VAULT }, net/' \
		"$d/sec.yaml" >"$d/sec-vault.yaml"
	(cd "$d" && AZ_NET=$net AZ_NOTE=$note "$drover" drill --state-dir s --events ev.jsonl --report r.json --report r.html \
		--report r.md --report r.xml sec.yaml >out 2>&1 </dev/null)
	check "secrets: the drill runs to its end (exit $?)" grep -q '"event":"run.end","status":"succeeded"' "$d/ev.jsonl"
	(cd "$d" && AZ_NET=$net AZ_NOTE=$note AZ_VAULT=$vault "$drover" drill --state-dir s2 --events ev2.jsonl \
		--report r2.json sec-vault.yaml >out2 2>&1 </dev/null)
	check "secrets: a vault the service does not know: refused (exit $?)" has "$d/out2" "ResourceNotFound: .*\*\*\*"
	(cd "$d" && AZ_NET=$net AZ_NOTE=$note AZ_VAULT=$vault "$drover" plan --state-dir s2 -o plan.json sec-vault.yaml \
		>out3 2>&1 </dev/null)
	check "secrets: drover plan, the same (exit $?)" has "$d/out3" "ResourceNotFound: .*\*\*\*"
	# a backend option read from a secret file, by drover plan too: the file rules of a run (a FIFO is
	# never waited on, a file others can read is refused)
	sed 's/endpoint: "${env.EMU_URL}" }/endpoint: "${env.EMU_URL}", credential: client_secret, client_secret: "${secrets.cs}" }/
		s/secrets: { net/secrets: { cs: { file: cs.txt }, net/' "$d/sec.yaml" >"$d/sec-file.yaml"
	grep -q 'client_secret: "${secrets.cs}"' "$d/sec-file.yaml" || echo "    sec-file.yaml was not made"
	mkfifo "$d/cs.txt"
	(cd "$d" && timeout 10 "$drover" plan --state-dir s3 sec-file.yaml >out4 2>&1 </dev/null)
	check "secrets: plan with a backend secret file that is a FIFO: exit 2 at once (got $?)" \
		has "$d/out4" "backend.client_secret: secrets.cs: cannot use the file 'cs.txt'"
	rm "$d/cs.txt"; echo drover-emulator-secret >"$d/cs.txt"; chmod 644 "$d/cs.txt"
	(cd "$d" && "$drover" plan --state-dir s3 sec-file.yaml >out5 2>&1 </dev/null)
	check "secrets: ... one others can read: refused (exit $?)" has "$d/out5" "cs.txt.*other users (mode 0644)"
	chmod 600 "$d/cs.txt"
	(cd "$d" && AZ_NET=$net "$drover" plan --state-dir s3 sec-file.yaml >out6 2>&1 </dev/null)
	check "secrets: ... owner-only: the plan reads the vault (exit $?)" has "$d/out6" "shop-db-1"
	stop
	check "secrets: the service got the real network and comments" \
		bash -c "grep -qF -- '$net' '$tmp/sec.state' && grep -qF -- '$note' '$tmp/sec.state'"
	local v form hits=""
	for v in "$net" "$note" "$vault"; do
		for form in "$v" "$(printf %s "$v" | base64 -w0)" "$(jq -rn --arg v "$v" '$v|@uri')"; do
			hits+=$(grep -rlF -- "$form" "$d" "$tmp/sec.audit" "$tmp/sec.out" "$tmp/sec.err")
		done
	done
	check "secrets: no output, event, journal, report or audit line holds one, in any form${hits:+ (in: $hits)}" is "$hits" ""
}

# --- a job waits for a person (a manual action): said on screen and in events, resumed, the run goes on;
# a person's wait is not the step's time (resumed after the step's timeout, the run still succeeds); not
# resumed, the run's run_timeout ends the wait saying so, and a resume after the person acted goes on ---------
suspended() {
	local d=$tmp/susp
	mkdir -p "$d"
	start susp --faults '[{kind: suspend, op: failover, vms: "^shop-web-1$", message: "Check the replica database, then resume"}]' || return
	cat >"$d/susp.yaml" <<-EOF
	drover: 1
	name: suspended
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	vm_sets: { web: { match: { name: "^shop-web-" } } }
	steps:
	  - { id: failover, action: dr.failover, targets: web, timeout: 1m, with: { shutdown_source: false } }
	EOF
	# the step's 5s and the run's 6s are wall-clock time, spent before the job is suspended too: about a
	# tenth of a second alone, more on a loaded machine (and a journal's fsync may wait seconds on a busy disk)
	sed 's/timeout: 1m/timeout: 5s/' "$d/susp.yaml" >"$d/susp-5s.yaml"
	sed 's/^steps:/defaults: { run_timeout: 6s }\nsteps:/' "$d/susp.yaml" >"$d/susp-rt.yaml"
	(cd "$d" && "$drover" run --yes --state-dir s --events ev.jsonl susp.yaml >out 2>&1 </dev/null) &
	local run=$! job=
	pids="$pids $run"
	wait_line -p "$run" 'waiting for a person' "$d/ev.jsonl"
	check "suspended: said in the events, with the task's instructions and what to do" \
		has "$d/ev.jsonl" '"level":"warn".*failover of .shop-web-1. is waiting for a person: job [0-9a-f-]* is Suspended at task .*Check the replica database, then resume.*resume.*The step.s timeout stands still while a person is awaited'
	job=$(grep -o 'job [0-9a-f-]\{36\} is Suspended' "$d/ev.jsonl" | head -1 | cut -d' ' -f2)
	local url
	url=$(grep -o "az rest --method post --url '[^']*'" "$d/ev.jsonl" | head -1 | sed "s/.*--url '//; s/'\$//")
	check "suspended: the text names the command that resumes the job on Azure (az rest ... $job/resume)" \
		bash -c "[[ '$url' == '$U'*'/replicationJobs/$job/resume?api-version='* ]]"
	token
	curl -s -o "$d/resume.json" -X POST -H "Authorization: Bearer $T" -H "Content-Type: application/json" \
		-d '{"properties":{"comments":"replica checked"}}' "$url" # the URL drover printed
	check "suspended: the service resumes the job" is "$(jq -r .name "$d/resume.json")" "$job"
	wait "$run"; RC=$?
	check "suspended: the run goes on once resumed and succeeds (exit $RC)" is "$RC" 0
	check "suspended: and says the job was resumed" has "$d/ev.jsonl" "job $job was resumed; going on"
	check "suspended: the resume is in the service's audit" \
		bash -c "[ \$(jq -s '[.[] | select(.accepted and (.path | test(\"/resume\$\")))] | length' '$tmp/susp.audit') = 1 ]"
	# the person takes longer than the step's timeout (5s): a person's wait is not the step's time
	stop
	start susp1 --faults '[{kind: suspend, op: failover, vms: "^shop-web-1$", message: "Check the replica database, then resume"}]' || return
	(cd "$d" && "$drover" run --yes --state-dir s1 --events ev1.jsonl susp-5s.yaml >out1 2>&1 </dev/null) &
	run=$!
	pids="$pids $run"
	wait_line -p "$run" 'waiting for a person' "$d/ev1.jsonl"
	job=$(grep -o 'job [0-9a-f-]\{36\} is Suspended' "$d/ev1.jsonl" | head -1 | cut -d' ' -f2)
	sleep 6 # past the step's 5s (time passing is what is tested)
	token
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $T" -H "Content-Type: application/json" -d '{}' \
		"$U$V/replicationJobs/$job/resume?$AV"
	wait "$run"; RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/out1"
	check "suspended longer than the step's timeout, then resumed: the run succeeds (exit $RC)" is "$RC" 0
	# drover killed during the wait, down past the step's timeout (5s), resumed while the job still waits,
	# then the person acts: the wait (the downtime included) is journaled (task.person), not the step's time
	stop
	start susp3 --faults '[{kind: suspend, op: failover, vms: "^shop-web-1$", message: "Check the replica database, then resume"}]' || return
	(cd "$d" && exec "$drover" run --yes --state-dir s3 --events ev3.jsonl susp-5s.yaml >out4 2>&1 </dev/null) &
	run=$!
	pids="$pids $run"
	wait_until -p "$run" bash -c "grep -q '\"event\":\"task.person\".*\"waiting\":true' '$d'/s3/runs/*/journal.jsonl"
	check "killed while a job waits for a person: the wait is in the journal" has "$(echo "$d"/s3/runs/*/journal.jsonl)" '"event":"task.person".*"waiting":true'
	kill -KILL "$run"; wait "$run" 2>/dev/null
	job=$(grep -o 'job [0-9a-f-]\{36\} is Suspended' "$d/ev3.jsonl" | head -1 | cut -d' ' -f2)
	(cd "$d" && "$drover" status --state-dir s3) >"$d/status3" 2>&1
	check "  drover status of the killed run: the task waits for a person, since when, and what the service asks" \
		has "$d/status3" "^  failover\[shop-web-1\]: waiting for a person since [0-9:.]*, attempt 1 of dr.failover (changes the service): job $job is Suspended at task .*Check the replica database, then resume.*az rest --method post"
	check "  ...and its VM line says so, not in flight" has "$d/status3" "^shop-web-1  .*failover waiting for a person$"
	sleep 6 # drover is down past the step's 5s
	rid=$(basename "$(dirname "$(echo "$d"/s3/runs/*/journal.jsonl)")")
	(cd "$d" && exec "$drover" resume --yes --state-dir s3 --events ev4.jsonl "$rid" >out5 2>&1 </dev/null) &
	run=$!
	pids="$pids $run"
	wait_line -p "$run" 'waiting for a person' "$d/ev4.jsonl"
	check "  resumed while the job still waits: it waits again, the step not timed out" has "$d/ev4.jsonl" 'is waiting for a person'
	token
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $T" -H "Content-Type: application/json" -d '{}' \
		"$U$V/replicationJobs/$job/resume?$AV"
	wait "$run"; RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/out5"
	check "  then the person acts: the resumed run succeeds (exit $RC)" is "$RC" 0
	check "  and posts no second failover" \
		bash -c "[ \$(jq -s '[.[] | select(.accepted and (.path | test(\"unplannedFailover\"; \"i\")))] | length' '$tmp/susp3.audit') = 2 ]"
	# nobody comes: the run's run_timeout (6s) ends the wait, saying the job waits for a person and what to do
	stop
	start susp2 --faults '[{kind: suspend, op: failover, vms: "^shop-web-1$", message: "Check the replica database, then resume"}]' || return
	(cd "$d" && "$drover" run --yes --state-dir s2 --events ev2.jsonl susp-rt.yaml >out2 2>&1 </dev/null)
	RC=$?
	check "suspended past the run's run_timeout: the run fails (exit $RC)" is "$RC" 1
	check "  saying the job waits for a person, paused not failed, and what to do" \
		has "$d/out2" "the run.s timeout (run_timeout 6s) ran out: failover of .shop-web-1. stopped waiting: job [0-9a-f-]* has waited for a person for .*Suspended at task .*Check the replica.*paused in the service, not failed.*resume the job in the portal .*az rest --method post --url '$U.*/resume?api-version=.*drover resume"
	# the person acts later: the job is resumed, and drover resume --retry-failed goes on with it, posting nothing
	local rid
	rid=$(sed -n 's/.*run \(suspended-[^ ]*\) started.*/\1/p' "$d/out2" | head -1)
	job=$(grep -o 'job [0-9a-f-]\{36\} is Suspended' "$d/ev2.jsonl" | head -1 | cut -d' ' -f2)
	token
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $T" -H "Content-Type: application/json" -d '{}' \
		"$U$V/replicationJobs/$job/resume?$AV"
	(cd "$d" && "$drover" resume --retry-failed --yes --state-dir s2 "$rid" >out3 2>&1 </dev/null)
	RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/out3"
	check "  resumed in the service later, drover resume --retry-failed goes on with the job (exit $RC)" is "$RC" 0
	check "  and posts no second failover" \
		bash -c "[ \$(jq -s '[.[] | select(.accepted and (.path | test(\"unplannedFailover\"; \"i\")))] | length' '$tmp/susp2.audit') = 2 ]"
	check "nothing broke the OpenAPI contract" bash -c "$(declare -f hasnt no_violation); no_violation '$tmp/susp.err' && no_violation '$tmp/susp2.err'"
	stop
}

# --- throttled and failing answers: the step's retry: is the only retry policy ------------------------------
# A 429 or 503 on a read before the post, on the POST itself and on the poll of the job, with Retry-After in
# seconds and as an HTTP date: each failure of the operation is an attempt that drover status shows, waits the
# service's Retry-After, and no call is sent again behind the step's back (one POST per attempt); a step
# without retry: fails on the first 503 of its POST; a poll or the outputs' read of the item is asked again
# after Retry-After (not an attempt: the operation runs); a Retry-After of an hour is read as a minute; a step
# without retry: goes through 429s on its POST by the built-in retry (throttled only, 5 attempts); a 429's
# pause of the subscription ends at the step's timeout for the requests that wait behind it.
throttled() {
	local d=$tmp/thr
	mkdir -p "$d"
	cat >"$d/thr.yaml" <<-EOF
	drover: 1
	name: throttled
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	vm_sets: { web: { match: { name: "^shop-web-1$" } } }
	recovery: { point: latest-processed, max_age: 1h }
	steps:
	  - id: failover
	    action: dr.failover
	    targets: web
	    timeout: 1m
	    with: { shutdown_source: false }
	    retry: { attempts: 3, delay: 100ms, on: [transient, throttled] }
	EOF
	grep -v 'retry:' "$d/thr.yaml" >"$d/noretry.yaml"
	sed 's/timeout: 1m/timeout: 3s/' "$d/thr.yaml" >"$d/long.yaml"
	# the preflight lists the points first (not a step: the backend's own tries); the task's list is the second
	start thr --faults '[{kind: status, code: 429, method: GET, path: "recoveryPoints$", after: 1, times: 1, retry_after: 1s},
		{kind: status, code: 503, method: POST, path: "unplannedFailover$", times: 1, retry_after: 2s, retry_after_as: date},
		{kind: status, code: 429, method: GET, path: "replicationJobs/[^/]+$", times: 1, retry_after: 1s, retry_after_as: date}]' || return
	(cd "$d" && "$drover" run --yes --state-dir s --events ev.jsonl thr.yaml >out 2>&1 </dev/null); RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/out"
	check "throttled: the run succeeds through a 429 on the points, a 503 on the POST, a 429 on the poll (exit $RC)" is "$RC" 0
	"$drover" status --state-dir "$d/s" --format json >"$d/status.json" 2>/dev/null
	check "  drover status counts each failure of the operation as an attempt: 3" \
		is "$(jq '.tasks[0].attempt' "$d/status.json")" 3
	check "  each retry waited the service's Retry-After (1 s in seconds, 2 s as an HTTP date; at least 1 s each)" \
		is "$(jq -s '[.[] | select(.event == "task.retry" and .retry_after == true and .delay_ms >= 1000)] | length' "$d/ev.jsonl")" 2
	check "  one POST per attempt that reached it: two in the service's audit" \
		is "$(jq -s '[.[] | select(.path | test("unplannedFailover$"; "i"))] | length' "$tmp/thr.audit")" 2
	check "  the second POST left at least a second after the 503 (its Retry-After, an HTTP date)" \
		bash -c "[ \$(jq -rs '[.[] | select(.path | test(\"unplannedFailover\$\"; \"i\")) | .time[11:23] | split(\":\") | (.[0] | tonumber) * 3600 + (.[1] | tonumber) * 60 + (.[2] | tonumber)] | (.[1] - .[0]) >= 1' '$tmp/thr.audit') = true ]"
	check "  the throttled poll is asked again after its Retry-After, said in a warn line, not an attempt" \
		has "$d/ev.jsonl" '"level":"warn".*reading its job [0-9a-f-]* failed (throttled 429 TooManyRequests); asking again in 1s (the service.s Retry-After)'
	stop
	start thr2 --faults '[{kind: status, code: 503, method: POST, path: "unplannedFailover$", times: 1, retry_after: 1s}]' || return
	(cd "$d" && "$drover" run --yes --state-dir s2 --events ev2.jsonl noretry.yaml >out2 2>&1 </dev/null); RC=$?
	check "throttled: a step without retry: fails on the first 503 of its POST (exit $RC)" is "$RC" 1
	check "  saying so (transient, HTTP 503)" has "$d/out2" "attempt 1 failed.*(transient).*HTTP 503"
	check "  and the client did not post again on its own: one POST" \
		is "$(jq -s '[.[] | select(.path | test("unplannedFailover$"; "i"))] | length' "$tmp/thr2.audit")" 1
	stop
	start thr5 --faults '[{kind: status, code: 429, method: POST, path: "unplannedFailover$", times: 2, retry_after: 1s}]' || return
	(cd "$d" && "$drover" run --yes --state-dir s5 --events ev5.jsonl noretry.yaml >out5 2>&1 </dev/null); RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/out5"
	check "throttled: a step without retry: goes through two 429s on its POST, by the built-in retry (exit $RC)" is "$RC" 0
	check "  each a new attempt (3 in drover status) that says the built-in policy's 5 attempts, reason throttled" \
		is "$(jq -sc '[.[] | select(.event == "task.retry") | [.attempts, .reason, .delay_ms >= 1000]]' "$d/ev5.jsonl")" \
		'[[5,"throttled",true],[5,"throttled",true]]'
	"$drover" status --state-dir "$d/s5" --format json >"$d/status5.json" 2>/dev/null
	check "  drover status shows attempt 3" is "$(jq '.tasks[0].attempt' "$d/status5.json")" 3
	check "  one POST per attempt: three in the service's audit, one accepted" \
		is "$(jq -sc '[[.[] | select(.path | test("unplannedFailover$"; "i"))] | length, ([.[] | select(.accepted)] | length)]' "$tmp/thr5.audit")" '[3,1]'
	check "  drover plan shows the policy as built-in" \
		bash -c "cd '$d' && '$drover' plan noretry.yaml --state-dir s5p | grep -q 'dr.failover .*retry: built-in (5 attempts on throttled)'"
	stop
	# a 429 with Retry-After 50s on one VM's poll pauses the subscription: the other VM's next request waits in
	# drover's limiter, on a worker; the step's timeout (3s) ends that wait, not the pause
	sed -e 's/timeout: 1m/timeout: 3s/' -e 's/\^shop-web-1\$/^shop-web-[12]$/' "$d/noretry.yaml" >"$d/pause.yaml"
	SPEED=600 start thr6 --faults '[{kind: status, code: 429, method: GET, path: "replicationJobs/[^/]+$", times: 1, retry_after: 50s}]' || return
	local t0=$(date +%s)
	(cd "$d" && "$drover" run --yes --state-dir s6 --events ev6.jsonl pause.yaml >out6 2>&1 </dev/null); RC=$?
	local took=$(( $(date +%s) - t0 ))
	check "throttled: a 429's 50 s pause of the subscription does not outlast the step's 3 s timeout (exit $RC, ${took}s)" \
		bash -c "[ $RC = 1 ] && [ $took -lt 15 ]"
	check "  the step says it timed out" has "$d/out6" "timed out after 3s"
	stop
	start thr3 --faults '[{kind: status, code: 503, method: GET, path: "replicationProtectedItems/[^/]+$", times: 1, retry_after: 1s, retry_after_as: date}]' || return
	(cd "$d" && "$drover" run --yes --state-dir s3 --events ev3.jsonl noretry.yaml >out3 2>&1 </dev/null); RC=$?
	check "throttled: a 503 on the outputs' read of the item after the job succeeded: asked again, the run succeeds (exit $RC)" is "$RC" 0
	check "  with the outputs (active_location Recovery), in one attempt" \
		is "$(jq -rs '[.[] | select(.event == "task.end")] | "\(length) \(.[0].outputs.active_location)"' "$d/ev3.jsonl")" "1 Recovery"
	check "  said in a warn line" has "$d/ev3.jsonl" '"level":"warn".*reading the item for the outputs of job .* failed (transient 503'
	stop
	start thr4 --faults '[{kind: status, code: 503, method: POST, path: "unplannedFailover$", times: 1, retry_after: 1h}]' || return
	(cd "$d" && "$drover" run --yes --state-dir s4 --events ev4.jsonl long.yaml >out4 2>&1 </dev/null); RC=$?
	check "throttled: a Retry-After of an hour is waited as a minute at most" \
		is "$(jq -s '[.[] | select(.event == "task.retry")][0].delay_ms' "$d/ev4.jsonl")" 60000
	check "  and the step's timeout (3s) ends the wait (exit $RC)" is "$RC" 1
	# a probe throttled on every read: its time (3s) bounds it, not 5 built-in attempts of 3s each
	stop
	cat >"$d/probe.yaml" <<-EOF
	drover: 1
	name: probe-throttled
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	vm_sets: { web: { match: { name: "^shop-web-1$" } } }
	steps:
	  - { id: up, action: dr.probe, targets: web, with: { expect: running, timeout: 3s } }
	EOF
	start thr7 --faults '[{kind: status, code: 429, method: GET, path: "virtualMachines/shop-web-1$", retry_after: 1s}]' || return
	t0=$(date +%s)
	(cd "$d" && "$drover" run --yes --state-dir s7 --events ev7.jsonl probe.yaml >out7 2>&1 </dev/null); RC=$?
	took=$(( $(date +%s) - t0 ))
	check "throttled: a probe whose every VM read is throttled fails after its own time, 3s (exit $RC, ${took}s)" \
		bash -c "[ $RC = 1 ] && [ $took -lt 8 ]"
	check "  in one attempt: the built-in retry does not probe again" \
		is "$(jq -sc '[([.[] | select(.event == "task.retry")] | length), ([.[] | select(.event == "task.end")] | length), ([.[] | select(.event == "task.end")][0].class)]' "$d/ev7.jsonl")" '[0,1,"transient"]'
	check "  saying its reads were throttled" has "$d/out7" "probe of 'shop-web-1' gave up after 3s[0-9ms]*: the service did not answer its last read of the VM (throttled)"
	check "nothing broke the OpenAPI contract" bash -c "$(declare -f hasnt no_violation); no_violation '$tmp/thr.err' && no_violation '$tmp/thr2.err' && no_violation '$tmp/thr3.err' && no_violation '$tmp/thr5.err' && no_violation '$tmp/thr7.err'"
	stop
}

# --- items drover cannot operate: protected by another provider (InMageRcm, HyperVReplicaAzure, served in their
# contract shapes), and one the vault lists without properties (its VM's name unknown, so no VM set can tell
# whether it is theirs): drover plan names each as a blocker, drover run refuses before any call (the service's
# audit stays empty), and --exclude-blocked goes on without them ----------------------------------------------
unusable() {
	local d=$tmp/unus
	mkdir -p "$d"
	start unus --faults '[{kind: provider, provider: InMageRcm, vms: "^shop-db-1$"},
		{kind: provider, provider: HyperVReplicaAzure, vms: "^shop-app-1$"}, {kind: no-properties, vms: "^shop-web-2$"}]' || return
	cat >"$d/u.yaml" <<-EOF
	drover: 1
	name: unusable
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	vm_sets: { shop: { match: { name: "^shop-" } } }
	steps:
	  - { id: shutdown, action: dr.shutdown, targets: shop }
	  - { id: failover, action: dr.failover, targets: shop, needs: shutdown, with: { shutdown_source: false } }
	EOF
	served "$d/served"
	check "unusable: the InMageRcm item is served in its provider's shape" \
		is "$(jq -r 'select(.properties.friendlyName == "shop-db-1") | .properties.providerSpecificDetails | "\(.instanceType) \(.targetVmName)"' "$d/served")" "InMageRcm shop-db-1"
	check "  the HyperVReplicaAzure one too" \
		is "$(jq -r 'select(.properties.friendlyName == "shop-app-1") | .properties.providerSpecificDetails | "\(.instanceType) \(.recoveryAzureVmName)"' "$d/served")" "HyperVReplicaAzure shop-app-1"
	check "  one item is listed without properties" is "$(jq -c 'select(.properties == null) | keys' "$d/served")" '["id","name","type"]'
	# the shapes of the provider each claims, from the contract: its details' members, its fabric, its points
	local vm def extra
	for vm in shop-db-1:InMageRcmReplicationDetails shop-app-1:HyperVReplicaAzureReplicationDetails; do
		def=${vm#*:} vm=${vm%%:*}
		extra=$(jq -c --arg vm "$vm" --arg dn "$def" --slurpfile c "$contract" 'select(.properties.friendlyName == $vm) |
			(.properties.providerSpecificDetails | keys) - ($c[0].definitions[$dn].properties | keys) - ["instanceType"]' "$d/served")
		check "  $vm's details hold only members of the contract's $def" is "$extra" "[]"
	done
	check "  their primary fabrics are their providers' (InMageRcm, HyperVSite), the A2A items' Azure" \
		is "$(jq -r '"\(.properties.friendlyName) \(.properties.primaryFabricProvider)"' "$d/served" | grep -v '^null' | sort | tr '\n' ' ')" \
		"shop-app-1 HyperVSite shop-app-2 Azure shop-db-1 InMageRcm shop-db-2 Azure shop-web-1 Azure "
	token
	local pid
	pid=$(jq -r 'select(.properties.friendlyName == "shop-db-1") | .id' "$d/served")
	curl -s -H "Authorization: Bearer $T" "$U$pid/recoveryPoints?$AV" >"$d/rcm-points.json"
	check "  the InMageRcm item's points carry InMageRcm's point details, not A2A's" \
		is "$(jq -c --slurpfile c "$contract" '[.value[].properties.providerSpecificDetails | [.instanceType, (keys - ($c[0].definitions.InMageRcmRecoveryPointDetails.properties | keys) - ["instanceType"])]] | unique' "$d/rcm-points.json")" '[["InMageRcm",[]]]'
	pid=$(jq -r 'select(.properties.friendlyName == "shop-app-1") | .id' "$d/served")
	check "  the HyperVReplicaAzure item's points carry none (the contract has no such details)" \
		is "$(curl -s -H "Authorization: Bearer $T" "$U$pid/recoveryPoints?$AV" | jq -c '[.value[].properties | has("providerSpecificDetails")] | unique')" '[false]'
	check "  \$filter on instanceType finds the InMageRcm item alone" \
		is "$(curl -s -H "Authorization: Bearer $T" "$U$V/replicationProtectedItems?$AV&%24filter=instanceType%20eq%20%27InMageRcm%27" | jq -c '[.value[].properties.friendlyName]')" '["shop-db-1"]'
	(cd "$d" && "$drover" plan --state-dir s u.yaml >plan.out 2>&1); RC=$?
	check "unusable: drover plan is blocked (exit $RC)" is "$RC" 1
	check "  naming the InMageRcm item and why" \
		has "$d/plan.out" "^  - shop-db-1: step 'shutdown' would be refused: it is protected by InMageRcm (VMware VMs and physical servers to Azure (modernized)), not Azure-to-Azure (A2A)"
	check "  the HyperVReplicaAzure item" \
		has "$d/plan.out" "^  - shop-app-1: step 'shutdown' would be refused: it is protected by HyperVReplicaAzure (Hyper-V VMs to Azure)"
	check "  and the item without properties: no VM set can tell whether it is one of theirs" \
		has "$d/plan.out" "^  - [0-9a-f-]\{36\}: no VM set can tell whether this item is one of its VMs.*lacks properties.*cannot read its VM's name and state"
	check "  3 blockers" has "$d/plan.out" "^Blockers (3)"
	(cd "$d" && "$drover" run --yes --state-dir s u.yaml >run.out 2>&1 </dev/null); RC=$?
	check "unusable: drover run refuses (exit $RC)" is "$RC" 1
	check "  saying nothing was started" has "$d/run.out" "Nothing was started and no operation was sent to the azure backend"
	check "  and the service saw no mutating call: its audit is empty" is "$(wc -l <"$tmp/unus.audit")" 0
	# the service refuses A2A's input on another provider's item (had a call reached it)
	local id
	id=$(jq -r 'select(.properties.friendlyName == "shop-db-1") | .id' "$d/served")
	curl -s -o "$d/refused.json" -X POST -H "Authorization: Bearer $T" -H "Content-Type: application/json" \
		-d '{"properties":{"failoverDirection":"PrimaryToRecovery","sourceSiteOperations":"NotRequired","providerSpecificDetails":{"instanceType":"A2A"}}}' \
		"$U$id/unplannedFailover?$AV"
	check "  an A2A failover posted to the InMageRcm item: 400 InvalidProviderSpecificInput, nothing started" \
		is "$(jq -r '.error.details[0].code' "$d/refused.json") $(jq -s '[.[] | select(.accepted)] | length' "$tmp/unus.audit")" \
		"InvalidProviderSpecificInput 0"
	(cd "$d" && "$drover" run --yes --exclude-blocked --state-dir s u.yaml >run2.out 2>&1 </dev/null); RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/run2.out"
	check "unusable: --exclude-blocked goes on without the three (exit $RC)" is "$RC" 0
	check "  a power off names its Compute operation by its id, without the URL's query" \
		bash -c "grep -q \"shutdown of 'shop-web-1' started: job [0-9a-f-]\\{36\\} (request id\" '$d/run2.out' && ! grep -q 'job [^ ]*?api-version' '$d/run2.out'"
	check "  the others shut down and failed over: 6 accepted calls, none on the three" \
		is "$(jq -sc --slurpfile sv "$d/served" '[$sv[] | select(.properties.friendlyName != "shop-db-2" and
			.properties.friendlyName != "shop-app-2" and .properties.friendlyName != "shop-web-1") | .name] as $three |
			[.[] | select(.accepted)] | [length, ([.[] | select(.path | test(($three | join("|")) + "|shop-db-1|shop-app-1|shop-web-2"; "i"))] | length)]' \
			"$tmp/unus.audit")" "[6,0]"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/unus.err"
	stop
}

# --- recovery points served without recoveryPointTime (optional in the contract): drover plan says how many of a
# VM's points it cannot choose, never ranks them (the newest dated point is the latest), blocks a VM whose points
# are all undated saying why, and the failover uses the dated point the plan named -------------------------------
undated() {
	local d=$tmp/undated
	mkdir -p "$d"
	start undated --faults '[{kind: undated-points, vms: "^shop-db-1$", points: 2}, {kind: undated-points, vms: "^shop-web-1$"}]' || return
	cat >"$d/u.yaml" <<-EOF
	drover: 1
	name: undated
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	recovery: { point: latest-processed }
	vm_sets: { shop: { match: { name: "^shop-" } } }
	steps:
	  - { id: failover, action: dr.failover, targets: shop, with: { shutdown_source: false } }
	EOF
	served "$d/served"
	local id
	id=$(jq -r 'select(.properties.friendlyName == "shop-db-1") | .id' "$d/served")
	curl -s -H "Authorization: Bearer $T" "$U$id/recoveryPoints?$AV" >"$d/points.json"
	check "undated: the emulator serves shop-db-1's two newest points without recoveryPointTime" \
		is "$(jq '[.value[] | select(.properties.recoveryPointTime == null)] | length' "$d/points.json")" 2
	(cd "$d" && "$drover" plan --state-dir s u.yaml >plan.out 2>&1); RC=$?
	check "undated: drover plan is blocked by the VM whose points all lack a time (exit $RC)" is "$RC" 1
	check "  shop-db-1's row says 2 of its points have no time and are not chosen" \
		has "$d/plan.out" "^  shop-db-1 .*  ok (2 of the [0-9]* recovery points the service lists have no time: not chosen, their age is unknown)"
	check "  shop-web-1 is a blocker saying why, not 'no point exists'" \
		has "$d/plan.out" "^  - shop-web-1: no latest-processed recovery point can be chosen: \([0-9]*\) of the \1 recovery points the service lists have no time"
	check "  only shop-db-1's and shop-web-1's rows and shop-web-1's blocker speak of it" \
		is "$(grep 'have no time' "$d/plan.out" | grep -o 'shop-[a-z]*-[0-9]' | tr '\n' ' ')" "shop-db-1 shop-web-1 shop-web-1 "
	(cd "$d" && "$drover" plan --state-dir s --format json u.yaml >plan.json 2>/dev/null)
	local newest
	newest=$(jq -r '[.value[] | select(.properties.recoveryPointTime != null)] | max_by(.properties.recoveryPointTime) | .name' "$d/points.json")
	check "  the plan's point for shop-db-1 is the newest point with a time, undated_points 2" \
		is "$(jq -r '.vms[] | select(.name == "shop-db-1") | .recovery_point | "\(.id) \(.undated_points) \(.verdict)"' "$d/plan.json")" "$newest 2 ok"
	(cd "$d" && "$drover" run --yes --exclude-blocked --state-dir s u.yaml >run.out 2>&1 </dev/null); RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/run.out"
	check "undated: the run without shop-web-1 succeeds (exit $RC)" is "$RC" 0
	curl -s -H "Authorization: Bearer $T" "$U$V/replicationJobs?$AV" >"$d/jobs.json"
	check "  shop-db-1 failed over to that point, not to an undated one" \
		is "$(jq -r '.value[] | select(.properties.targetObjectName == "shop-db-1") | .properties.customDetails.affectedObjectDetails.RecoveryPointId | sub(".*/"; "")' "$d/jobs.json")" "$newest"
	check "nothing broke the OpenAPI contract" no_violation "$tmp/undated.err"
	stop
}

# --- a job in a state the contract does not list ("Other" is listed, with no meaning; "Paused" is newer than it):
# followed as running, said once per task, and the run goes on when the job ends -----------------------------------
odd_job_state() {
	local d=$tmp/odd
	mkdir -p "$d"
	SPEED=200 start odd --faults '[{kind: job-state, state: Other, vms: "^shop-web-1$"}, {kind: job-state, state: Paused, vms: "^shop-web-2$"}]' || return
	cat >"$d/o.yaml" <<-EOF
	drover: 1
	name: odd
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	vm_sets: { web: { match: { name: "^shop-web-" } } }
	steps:
	  - { id: failover, action: dr.failover, targets: web, with: { shutdown_source: false }, timeout: 10m }
	EOF
	served "$d/served"
	(cd "$d" && "$drover" run --yes --state-dir s o.yaml >run.out 2>&1 </dev/null); RC=$?
	[ "$RC" = 0 ] || sed 's/^/      /' "$d/run.out"
	check "odd job state: the run succeeds once the jobs end (exit $RC)" is "$RC" 0
	check "  shop-web-1's job in 'Other' is followed as running, said once" \
		is "$(grep -c "failover of 'shop-web-1': job [0-9a-f-]* is in state 'Other' ([A-Za-z]*), which drover does not know; following it as running until it ends" "$d/run.out")" 1
	check "  shop-web-2's job in 'Paused' too" \
		is "$(grep -c "failover of 'shop-web-2': job [0-9a-f-]* is in state 'Paused'.*which drover does not know" "$d/run.out")" 1
	jobs
	check "  one failover each" is "$(grep -c '^shop-web-[12] UnplannedFailover Succeeded$' "$tmp/jobs")" 2
	check "nothing broke the OpenAPI contract" no_violation "$tmp/odd.err"
	stop
}

# --- two signals while drover run checks the plan against the service (its recovery points answer slowly): nothing
# started, and it says so; the run it journaled goes on with a resume ---------------------------------------------
preflight_signals() {
	local d=$tmp/pfs p rc id
	mkdir -p "$d"
	start pfs --faults '[{kind: delay, delay: 20s, path: "recoveryPoints"}]' || return
	cat >"$d/pfs.yaml" <<-EOF
	drover: 1
	name: preflight-signals
	backend: { kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,
	           vault: drover-sim-vault, endpoint: "\${env.EMU_URL}" }
	vm_sets: { web: { match: { name: "^shop-web-" } } }
	steps:
	  - { id: failover, action: dr.failover, targets: web, with: { shutdown_source: false } }
	EOF
	(cd "$d" && exec "$drover" run --yes --state-dir s pfs.yaml >out 2>&1 </dev/null) &
	p=$! # waited for below: not in $pids, whose stop_all could reach a reused pid
	# its journal is written before the preflight, which then waits on the recovery points' answer (20 s)
	for _ in $(seq 500); do [ -s "$(ls "$d"/s/runs/*/journal.jsonl 2>/dev/null | head -1)" ] && break; sleep 0.02; done
	# both reach drover together (stopped, two signals pending, continued), as a Ctrl-C pressed twice
	kill -STOP $p; kill -INT $p; kill -TERM $p; kill -CONT $p
	wait $p; rc=$?
	check "two signals while drover run checks the plan: exit 4 at once" is "$rc" 4
	id=$(ls "$d/s/runs" | head -1)
	check "...saying nothing was run, and what its journal asks of the next run" has "$d/out" \
		"^drover: second signal: exiting now; the run had not started (drover was checking the plan against the service): nothing was run, no operation was asked of the service. Its journal is left without an end, so the next run of this runbook is refused until you go on with it (drover resume --state-dir s $id: it checks the plan again, then runs it) or start anew with --force\.$"
	check "...never that operations may still be in progress" hasnt "$d/out" "may still be in progress"
	check "...and none was asked for: no mutating call in the service's audit" is "$(cat "$tmp/pfs.audit" 2>/dev/null | grep -c .)" 0
	(cd "$d" && "$drover" run --yes --state-dir s pfs.yaml >out2 2>&1 </dev/null); rc=$?
	check "the next run is refused as that message says (exit 6)" is "$rc" 6
	kill -KILL "$P"; wait "$P" 2>/dev/null # the emulator holds a points answer 20 s; it changed nothing: not waited for
	start pfs
	(cd "$d" && "$drover" resume --yes --state-dir s "$id" >out3 2>&1 </dev/null); rc=$?
	check "and the resume it names runs the plan: exit 0" is "$rc" 0
	check "nothing broke the OpenAPI contract" no_violation "$tmp/pfs.err"
	stop
}

all="lifecycle soak token_expiry emulator_restart drover_killed errors secrets suspended throttled unusable undated odd_job_state preflight_signals"
for scenario in ${@:-$all}; do
	$scenario
done
echo "azure: $pass passed, $fail failed"
[ $fail = 0 ]
