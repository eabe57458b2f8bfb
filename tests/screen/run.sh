#!/usr/bin/env bash
# The screen on a real terminal: drover runs 1,000 VMs on the real clock inside tmux (a
# pseudo-terminal of 120 x 40), the pane is captured while it runs, and what tmux received is
# recorded byte for byte. Checked:
#   - the frame fits the screen: one line per step, each within the width, at most 40 lines;
#   - it is redrawn in place: never two frames on the screen, never a screen clear (no ESC[2J,
#     no ESC[H), each redraw moves the cursor up, overwrites and erases lines (ESC[K), inside a
#     synchronized update (ESC[?2026h ... ESC[?2026l);
#   - it says what matters: a progress bar, the slowest running VMs, the failed VMs by name, a
#     line while an approval waits for a person; a mass failure prints a few lines, not 100;
#   - the run ends with the final frame and the summary below it.
# A mid-run screen is kept as $B/screen/screen.txt (the closing note shows it).
#
#   tests/screen/run.sh DROVER        ends with "screen: N passed, M failed"
set -u
drover=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$drover")/screen
tmp=$(mktemp -d); sock=$tmp/tmux.sock
trap 'tmux -S "$sock" kill-server 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
pass=0 fail=0
[ -n "${KEEP:-}" ] && echo "keeping $tmp"
. "$here/../wait.sh"
ok() { if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL screen: $1"; fi; }
unset DROVER_STATE_DIR DROVER_SIM_STATE DROVER_CLOCK DROVER_TEST_SIGNAL_AT NO_COLOR
mkdir -p "$out"

if ! command -v tmux >/dev/null; then
	echo "FAIL screen: tmux is not installed (make deps installs it)"
	echo "screen: 0 passed, 1 failed"
	exit 1
fi

"$here/gen.sh" 1000 >"$tmp/screen.yaml"
# drover starts once tmux records the pane (pipe-pane), so the record holds every byte it writes
cmd="tmux -S '$sock' wait-for recording && cd '$tmp' && TERM=xterm-256color '$drover' run --clock real --state-dir '$tmp/state' screen.yaml </dev/null; echo EXIT=\$?; sleep 600"
tmux -S "$sock" -f /dev/null new-session -d -x 120 -y 40 "$cmd" &&
	tmux -S "$sock" pipe-pane -o "cat >>'$tmp/raw'" && tmux -S "$sock" wait-for -S recording
ok "tmux runs drover in a pane of 120 x 40, recorded" $?
[ $fail = 0 ] || { echo "screen: $pass passed, $fail failed"; exit 1; }
# A snapshot every 200 ms until the run ends (a generous deadline: a loaded machine is slow). The
# approval waits for a person: once a snapshot shows it, the command the screen prints answers it.
n=0 answered= end=$((SECONDS + ${WAIT_S:-120} + 60))
while [ "$SECONDS" -lt "$end" ]; do
	sleep 0.2
	n=$((n + 1))
	tmux -S "$sock" capture-pane -p >"$tmp/cap$n" 2>/dev/null || break
	grep -q '^EXIT=' "$tmp/cap$n" && break
	[ -z "$answered" ] && grep -q '^ ⏸ go-no-go: waiting for approval' "$tmp/cap$n" && grep -q '⏸ 1 waiting for a person' "$tmp/cap$n" &&
		answer=$(sed -n 's/^   answer with: drover approve \(.*\)$/\1/p' "$tmp/cap$n") && [ -n "$answer" ] &&
		answered=$(read -ra a <<<"$answer"; "$drover" approve "${a[@]}" 2>&1; echo "exit $?")
done
last=$tmp/cap$n

grep -q '^EXIT=0' "$last"; ok "the run under a terminal succeeds (exit 0)" $?
[ "${answered##*$'\n'}" = "exit 0" ]; ok "the approve command the screen shows answers the gate: ${answered//$'\n'/; }" $?
# what tmux recorded is complete once its last line, the exit status, is in it
wait_line EXIT= "$tmp/raw"; ok "the pane's record holds all drover wrote" $?

# --- the frame fits and is alone on the screen ----------------------------------------------------
frames_ok=0 mid=
for i in $(seq 1 "$n"); do
	c=$tmp/cap$i
	heads=$(grep -c '^ drover screen-' "$c")
	[ "$heads" -le 1 ] || { echo "    snapshot $i shows $heads frames"; frames_ok=1; }
	[ "$(wc -l <"$c")" -le 40 ] || frames_ok=1
	if grep -q "░" "$c" && grep -q "running; slowest vm-" "$c"; then mid=$c; fi # the last such screen
done
ok "never more than one frame on the screen, never more lines than the terminal has" $frames_ok
[ -n "$mid" ]; ok "a screen taken while it runs shows a progress bar and the slowest running VMs" $?
[ -n "$mid" ] && cp "$mid" "$out/screen.txt"
frame_of() { sed -n '/^ drover screen-/,$p' "$1" | sed '/^run screen-/,$d; /^EXIT=/d'; }
if [ -n "$mid" ]; then
	[ "$(frame_of "$mid" | grep -c '^  [○●✓✗⊘↺-] ')" = 6 ]; ok "the frame has one line per step (6)" $?
	wide=0 # characters, not bytes: the bars and marks are UTF-8
	while IFS= read -r line; do [ "$(LC_ALL=C.UTF-8 bash -c 'printf %s "${#1}"' _ "$line")" -le 119 ] || wide=1; done \
		< <(frame_of "$mid")
	ok "no frame line is wider than the terminal" $wide
fi
grep -q '✗ 100: vm-0007, vm-0017, vm-0027, +97' "$last"; ok "the failed VMs are named, and counted" $?
for c in "$tmp"/cap*; do grep -q '^ ⏸ go-no-go: waiting' "$c" && cp "$c" "$out/screen-approval.txt" && break; done
cat "$tmp"/cap* | grep -q '^ ⏸ go-no-go: waiting for approval: Commit the failover?$' &&
	cat "$tmp"/cap* | grep -q "^   answer with: drover approve --state-dir $tmp/state screen-[0-9A-Za-z-]* go-no-go$"
ok "a line while the approval waits for a person, and one with the whole command that answers it (--state-dir)" $?
cat "$tmp"/cap* | grep -q '⏸ 1 waiting for a person'; ok "the header counts what waits for a person" $?

# --- a mass failure does not scroll the screen away -----------------------------------------------
[ "$(grep -ac 'check\[vm-[0-9]*\]: attempt 1 ' "$tmp/raw")" = 3 ]
ok "100 failed checks print 3 lines above the frame" $?
grep -aq "check: more failures than shown here: the screen names the VMs; 'drover status --state-dir $tmp/state screen-" "$tmp/raw"
ok "and one line that says where the rest are" $?

# --- redrawn in place, without flicker ------------------------------------------------------------
esc=$(printf '\033')
! grep -aq "${esc}\[2J\|${esc}\[H\|${esc}\[0;0H" "$tmp/raw"; ok "no screen clear, no cursor home" $?
[ "$(grep -ao "${esc}\[?2026h" "$tmp/raw" | wc -l)" -gt 5 ] && [ "$(grep -ao "${esc}\[?2026h" "$tmp/raw" | wc -l)" = "$(grep -ao "${esc}\[?2026l" "$tmp/raw" | wc -l)" ]
ok "every redraw is one synchronized update" $?
grep -aq "${esc}\[[0-9]*A" "$tmp/raw" && grep -aq "${esc}\[K" "$tmp/raw"
ok "redraws move the cursor up and erase each line to its end" $?

# --- the end ----------------------------------------------------------------------------------------
grep -q '^  ✓ commit   1000/1000 ████████████████████ 100%' "$last"; ok "the final frame stays: every step done" $?
grep -q '^run screen-.* succeeded after ' "$last" && grep -q '^  failed: check: 100 of 100 tasks failed' "$last"
ok "the summary follows the final frame" $?
cp "$last" "$out/screen-end.txt"

echo "screen: $pass passed, $fail failed"
[ $fail = 0 ]
