#!/usr/bin/env bash
# check.ssh and check.rdp against real servers on loopback, the way a
# failed-over VM answers: a real OpenSSH server (Debian's openssh-server,
# its own sshd_config, keys generated here, an ephemeral port) and the
# minimal Remote Desktop responder of tests/login/rdp_responder.c. Each
# case runs drover on a small runbook and reads its events.
#
#   tests/login/run.sh DROVER RDP_RESPONDER     ends with "login: N passed, M failed"
#
# Needs /usr/sbin/sshd and ssh (make deps installs them: TEST_DEB_PKGS);
# when they are missing every case fails, it is never skipped. sshd runs
# as the user running the tests (root in CI) and logs in as that user.
set -u
drover=$(realpath "$1")
responder=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
build=$(dirname "$drover")
tmp=$(mktemp -d -p "$build" login.XXXXXX)
[ "${KEEP:-}" ] && echo "login: keeping $tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
unset DROVER_SIM_FAULTS DROVER_STATE_DIR DROVER_SIM_STATE DROVER_CLOCK DROVER_TEST_SIGNAL_AT
export NO_COLOR=1 DROVER_STDLIB="$here/../../stdlib" TMPDIR="$tmp"
cd "$tmp" || exit 1
. "$here/../wait.sh"

ok() { # ok DESCRIPTION STATUS
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL login: $1"; fi
}
# run_rb EXPECTED_EXIT NAME STEP-YAML: a runbook with one step, run; events in NAME.events
run_rb() {
	local want=$1 name=$2
	printf 'drover: 1\nname: %s\nsecrets:\n  token: { env: LOGIN_TOKEN }\nsteps:\n%s\n' "$name" "$3" >"$name.yaml"
	LOGIN_TOKEN=t0ps3cret-value "$drover" run --clock virtual --state-dir state --events "$name.events" \
		"$name.yaml" >"$name.out" 2>&1 </dev/null
	local rc=$?
	[ "$rc" = "$want" ] && return 0
	echo "    exit $rc, expected $want: $name"; sed 's/^/      /' "$name.out" | tail -8
	return 1
}
ends() { grep '"event":"task.end"' "$1.events"; } # the task.end events of a case
has_text() { # has_text NAME TEXT: a task.end holds TEXT (fixed, not a pattern: fingerprints hold + and /)
	ends "$1" | grep -qF -- "$2" && return 0
	echo "    no task.end of $1 holds $2:"; ends "$1" | sed 's/^/      /' | cut -c1-400
	return 1
}
has() { # has NAME REGEX: a task.end matches
	ends "$1" | grep -Eq "$2" && return 0
	echo "    no task.end of $1 matches $2:"; ends "$1" | sed 's/^/      /' | cut -c1-400
	return 1
}

# --- a real sshd ----------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C host -f hostkey && ssh-keygen -q -t ed25519 -N '' -C other -f otherhost &&
	ssh-keygen -q -t ed25519 -N '' -C client -f client && ssh-keygen -q -t ed25519 -N '' -C wrong -f wrong &&
	cp client.pub authorized_keys
ok "ssh-keygen makes the host and client keys" $?
mkdir -p /run/sshd 2>/dev/null # sshd's privilege separation directory
start_sshd() { # an ephemeral port: try free-looking ones until sshd listens
	local try port
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM * 7 + try * 131) % 40000))
		cat >sshd_config <<-EOF
			Port $port
			ListenAddress 127.0.0.1
			HostKey $tmp/hostkey
			PidFile none
			AuthorizedKeysFile $tmp/authorized_keys
			StrictModes no
			UsePAM no
			PermitRootLogin prohibit-password
			PubkeyAuthentication yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PrintMotd no
			Subsystem sftp internal-sftp
			LogLevel VERBOSE
		EOF
		/usr/sbin/sshd -D -e -f "$tmp/sshd_config" 2>sshd.log &
		local pid=$!
		if wait_line -p "$pid" "Server listening on 127.0.0.1 port $port" sshd.log >/dev/null; then
			pids+=("$pid"); sshd_port=$port; return 0
		fi
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null # the port was taken: another
	done
	echo "    sshd did not start:"; sed 's/^/      /' sshd.log | tail -5
	return 1
}
sshd_port=0
start_sshd; ok "a real sshd listens on an ephemeral loopback port" $?
echo "[127.0.0.1]:$sshd_port $(cut -d' ' -f1,2 hostkey.pub)" >known_hosts
echo "[127.0.0.1]:$sshd_port $(cut -d' ' -f1,2 otherhost.pub)" >changed_hosts
: >empty_hosts
fp=$(ssh-keygen -lf hostkey.pub | awk '{print $2}')
me=$(id -un)

ssh_step() { # ssh_step EXTRA-WITH-LINES: a check.ssh step against the sshd
	printf '  - id: login\n    action: check.ssh\n    with:\n      host: 127.0.0.1\n      port: %s\n      user: %s\n%s' \
		"$sshd_port" "$me" "$1"
}

run_rb 0 ssh-ok "$(ssh_step "      key: client
      known_hosts: known_hosts
      command: 'echo up; uname -s; echo \"\${secrets.token}\"'
      stdout_match: '(?m)^Linux\$'
")"
ok "check.ssh logs in with the right key and a known host key" $?
has ssh-ok '"status":"succeeded"' && has_text ssh-ok "\"host_key_fingerprint\":\"$fp\"" &&
	has ssh-ok '"exit_status":0' && has ssh-ok '"stdout":"up\\nLinux\\n\*\*\*\\n"' && has ssh-ok '"host_key":null'
ok "its outputs: the host key's fingerprint, the exit status, the output with the secret redacted" $?
! grep -q t0ps3cret ssh-ok.events ssh-ok.out state -r; ok "the secret is in no event, output or journal" $?

# a remote command that prints the secret encoded and fails printing it: the failure's quote is redacted too
run_rb 1 ssh-leak "$(ssh_step "      key: client
      known_hosts: known_hosts
      command: 'printf %s \"\${secrets.token}\" | base64; echo \"login failed for \${secrets.token}\" >&2; exit 3'
")"
ok "check.ssh: a remote command that fails printing the secret fails the run" $?
b64=$(printf %s t0ps3cret-value | base64 -w0)
has ssh-leak 'exited with status 3 \(expected 0\): login failed for \*\*\*' && ! grep -rqF -e t0ps3cret -e "$b64" -e "${b64%%=*}" ssh-leak.events ssh-leak.out state
ok "check.ssh: neither the secret nor its base64 form is in an event, the output or a journal" $?

run_rb 0 ssh-tofu "$(ssh_step "      key: client
      known_hosts: accept-new
")"
ok "known_hosts: accept-new logs in to a host never seen" $?
has_text ssh-tofu "\"host_key\":\"$(cut -d' ' -f1,2 hostkey.pub)\"" && has_text ssh-tofu "\"host_key_fingerprint\":\"$fp\""
ok "accept-new records the key it accepted in the outputs" $?
[ ! -s empty_hosts ]; ok "accept-new writes no known_hosts file of the user's" $?

run_rb 1 ssh-wrongkey "$(ssh_step "      key: wrong
      known_hosts: known_hosts
    retry: { attempts: 3, delay: 1s }
")"
ok "a wrong key fails the run" $?
has ssh-wrongkey '"class":"permanent"' && has ssh-wrongkey 'login refused: Permission denied \(publickey\)\.: the server does not accept the key .*wrong' &&
	has ssh-wrongkey '"will_retry":false'
ok "a wrong key: 'login refused', permanent, not retried" $?

run_rb 1 ssh-changed "$(ssh_step "      key: client
      known_hosts: changed_hosts
    retry: { attempts: 3, delay: 1s }
")"
ok "a changed host key fails the run" $?
has_text ssh-changed "host key verification failed: the server presented ssh-ed25519 $fp, which is not the key" &&
	has ssh-changed '"class":"permanent"' && has ssh-changed '"will_retry":false'
ok "a changed host key: named with the key presented, permanent, not retried" $?

run_rb 1 ssh-unknown "$(ssh_step "      key: client
      known_hosts: empty_hosts
")"
has ssh-unknown 'has no key for this host \(add it, or use known_hosts: accept-new\)' && has ssh-unknown '"class":"permanent"'
ok "a host key the file does not list: permanent, says how to fix it" $?

run_rb 1 ssh-exit "$(ssh_step "      key: client
      known_hosts: known_hosts
      command: 'echo starting >&2; exit 3'
    retry: { attempts: 2, delay: 1s }
")"
has ssh-exit "exited with status 3 \(expected 0\): starting" && has ssh-exit '"class":"transient","message":[^}]*"will_retry":true'
ok "an unexpected exit status is transient (retried while the service starts)" $?

run_rb 0 ssh-exit-ok "$(ssh_step "      key: client
      known_hosts: known_hosts
      command: 'exit 3'
      expect_exit: [0, 3]
")"
has ssh-exit-ok '"exit_status":3'; ok "expect_exit accepts a listed status" $?

run_rb 1 ssh-nomatch "$(ssh_step "      key: client
      known_hosts: known_hosts
      command: 'echo degraded'
      stdout_match: '^healthy'
")"
has ssh-nomatch "does not match /\^healthy/" && has ssh-nomatch '"class":"transient"'
ok "output that does not match stdout_match is transient" $?

# The stdlib composite, on a simulated failover whose VMs "come up" at loopback.
cat >ssh-tier.yaml <<EOF
drover: 1
name: ssh-tier
backend:
  kind: sim
  vms:
    - { name: app-1, tags: { tier: app }, recovery_ip: 127.0.0.1 }
    - { name: app-2, tags: { tier: app }, recovery_ip: 127.0.0.1 }
vm_sets:
  app: { match: { tags: { tier: app } } }
steps:
  - { id: app, action: dr.failover, targets: app }
  - id: app-login
    use: tier-login-ssh
    needs: app
    with: { tier: app, user: $me, key: client, known_hosts: known_hosts, port: $sshd_port, command: "echo ok" }
EOF
"$drover" run --state-dir state --events ssh-tier.events ssh-tier.yaml >ssh-tier.out 2>&1 </dev/null
[ $? = 0 ] && [ "$(ends ssh-tier | grep -c '"step":"app-login.login".*"status":"succeeded".*"stdout":"ok\\n"')" = 2 ]
ok "stdlib tier-login-ssh logs in to every VM of the tier after a failover" $?

# A VM that is still booting: nothing listens yet, then sshd comes up; a plain retry: waits for it.
kill "${pids[0]}" 2>/dev/null; wait "${pids[0]}" 2>/dev/null
run_rb 1 ssh-down "$(ssh_step "      key: client
      known_hosts: known_hosts
")"
has ssh-down 'no login: .*Connection refused' && has ssh-down '"class":"transient"'
ok "no sshd listening: 'Connection refused', transient" $?
printf 'drover: 1\nname: ssh-boot\nsteps:\n%s\n    retry: { attempts: 600, delay: 200ms, backoff: 1 }\n' "$(ssh_step "      key: client
      known_hosts: known_hosts
")" >ssh-boot.yaml
"$drover" run --clock real --state-dir state --events ssh-boot.events ssh-boot.yaml >ssh-boot.out 2>&1 </dev/null &
run_pid=$!
# sshd comes up once the run has found nothing listening (retried for up to 600 attempts meanwhile)
wait_line -p "$run_pid" '"event":"task.end".*"status":"failed","class":"transient"' ssh-boot.events
/usr/sbin/sshd -D -e -f "$tmp/sshd_config" 2>sshd2.log &
pids+=("$!")
wait "$run_pid"; rc=$?
[ $rc = 0 ] && has ssh-boot '"status":"failed","class":"transient"' && has ssh-boot '"status":"succeeded"'
ok "a plain retry: waits for a VM whose sshd comes up late" $?

run_rb 1 ssh-nokey "$(ssh_step "      key: no-such-key
      known_hosts: known_hosts
")"
has ssh-nokey "with.key: '.*no-such-key': No such file or directory" && has ssh-nokey '"class":"permanent"'
ok "a key file that does not exist: permanent, before ssh runs" $?

# --- check.rdp against the responder ----------------------------------------------------------
responder() { # responder MODE: start one, its port in $rdp_port
	rm -f rdp.port
	"$responder" rdp.port "$1" &
	pids+=("$!")
	wait_until -p "${pids[-1]}" test -s rdp.port
	rdp_port=$(cat rdp.port 2>/dev/null)
}
rdp_step() { printf '  - id: rdp\n    action: check.rdp\n    with: { host: 127.0.0.1, port: %s%s }\n' "$rdp_port" "$1"; }

responder select:2
run_rb 0 rdp-ok "$(rdp_step "")"
has rdp-ok '"selected_protocol":"hybrid"' && has rdp-ok '"address":"127.0.0.1"'
ok "check.rdp: the server selects CredSSP (hybrid) out of the default tls, hybrid" $?
responder select:1
run_rb 1 rdp-notasked "$(rdp_step ", protocols: [hybrid]")"
has rdp-notasked 'refused every requested security protocol: SSL_REQUIRED_BY_SERVER' && has rdp-notasked '"class":"permanent"'
ok "a server that needs another protocol: its failure code, named, permanent" $?
responder fail:5
run_rb 1 rdp-fail "$(rdp_step "")"
has rdp-fail 'HYBRID_REQUIRED_BY_SERVER: the server requires CredSSP'; ok "a negotiation failure names its code" $?
responder legacy
run_rb 1 rdp-legacy "$(rdp_step "")"
has rdp-legacy 'selected Standard RDP Security \(0x0\), which was not requested'
ok "an old server's confirm without negotiation is Standard RDP Security, refused unless asked for" $?
run_rb 0 rdp-legacy-ok "$(rdp_step ", protocols: [rdp, tls]")"
has rdp-legacy-ok '"selected_protocol":"rdp"'; ok "protocols: [rdp, ...] accepts an old server" $?
responder garbage
run_rb 1 rdp-garbage "$(rdp_step "")"
has rdp-garbage 'not an RDP connection confirm \(first bytes: 53 53 48' && has rdp-garbage '"class":"permanent"'
ok "another service on the port (an SSH banner): not RDP, permanent" $?
responder close
run_rb 1 rdp-close "$(rdp_step "")"
has rdp-close 'closed before the RDP connection confirm' && has rdp-close '"class":"transient"'
ok "a connection closed before the confirm: transient (the service is starting)" $?
responder silent
run_rb 1 rdp-silent "$(rdp_step ", timeout: 300ms")"
has rdp-silent 'no RDP connection confirm within 300ms \(with.timeout\)' && has rdp-silent '"class":"transient"'
ok "no answer within the timeout: transient" $?
responder select:1
cat >rdp-tier.yaml <<EOF
drover: 1
name: rdp-tier
backend: { kind: sim, vms: [{ name: jump-1, tags: { tier: jump }, recovery_ip: 127.0.0.1 }] }
vm_sets: { jump: { match: { tags: { tier: jump } } } }
steps:
  - { id: jump, action: dr.failover, targets: jump }
  - { id: jump-rdp, use: tier-login-rdp, needs: jump, with: { tier: jump, port: $rdp_port } }
EOF
"$drover" run --state-dir state --events rdp-tier.events rdp-tier.yaml >rdp-tier.out 2>&1 </dev/null
[ $? = 0 ] && has rdp-tier '"step":"jump-rdp.rdp".*"selected_protocol":"tls"'
ok "stdlib tier-login-rdp checks the handshake of every VM of the tier" $?
rdp_port=1 # nothing listens on port 1 of loopback
run_rb 1 rdp-refused "$(rdp_step "")"
has rdp-refused '127.0.0.1:1: connection refused' && has rdp-refused '"class":"transient"'
ok "nothing listening: connection refused, transient" $?

echo "login: $pass passed, $fail failed"
[ $fail = 0 ]
