#!/usr/bin/env bash
# The golden runner leaves the repository as it is: a case whose 'before' script and whose drover
# command write into their folder (a state file, a journal under .drover/) is run, then its folder
# must hold exactly the files it held before, unchanged.
#
#   tests/golden/check-runner.sh DROVER
set -u
drover=$(realpath "$1")
root=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
case_dir=$tmp/cases/run/writes-its-folder
mkdir -p "$case_dir"
cat >"$case_dir/runbook.yaml" <<'YAML'
drover: 1
name: writes-its-folder
steps:
  - id: hello
    action: log
    with: { message: hello }
YAML
printf '%s\n' run --clock virtual --state-dir state runbook.yaml >"$case_dir/args"
printf '%s\n' 'echo written >fixture' 'mkdir -p state' >"$case_dir/before"
UPDATE=1 "$root/run.sh" "$drover" "$case_dir" >/dev/null || { echo "the case cannot be recorded"; exit 1; }
snapshot() { # every file and folder with its mode, size and time, then the files' bytes
	(cd "$case_dir" && find . -printf '%p %M %s %T@\n' | sort && find . -type f -print0 | sort -z | xargs -0 cat)
}
snapshot >"$tmp/before"
out=$("$root/run.sh" "$drover" "$case_dir" 2>&1)
snapshot >"$tmp/after"
if ! diff -u "$tmp/before" "$tmp/after"; then
	echo "tests/golden/run.sh changed the case folder it ran (above): it must run a scratch copy"
	exit 1
fi
grep -q "^golden: 1 passed, 0 failed$" <<<"$out" || { echo "unexpected: $out"; exit 1; }
