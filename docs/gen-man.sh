#!/usr/bin/env bash
# Generates docs/drover.1 from the commands' own --help texts, so the manual
# cannot drift from the binary:  docs/gen-man.sh DROVER > docs/drover.1
set -u
drover=$1
version=$("$drover" --version | awk '{print $2}')
date=$(sed -n 's/^RELEASE_DATE *:= *//p' "$(dirname "$0")/../Makefile")
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
cat <<EOT
.TH DROVER 1 "$date" "drover $version" "User Commands"
.SH NAME
drover \\- check and run disaster-recovery runbooks
.SH SYNOPSIS
.B drover
.RB [ \\-\\-version ]
.RB [ \\-\\-help ]
.I command
.RI [ args ...]
.SH DESCRIPTION
.B drover
reads a runbook, a YAML file that describes a disaster-recovery plan: which
virtual machines to fail over, onto which recovery point, how to validate them,
and when to commit and reprotect. It checks the runbook like a compiler before
anything runs (YAML, the schema, expressions, the step graph and the ordering
rules of disaster recovery), binds it to what the DR service protects, and runs
it with retries, timeouts, rollback, approvals and a crash-safe journal, against
the embedded simulator or the service.
.PP
The runbook format is described in
.IR docs/language.md ,
expressions in
.IR docs/expressions.md ,
actions in
.IR docs/actions.md ,
execution in
.IR docs/execution.md ,
and every diagnostic code in
.IR docs/diagnostics.md .
.PP
Every command takes its options before, between and after its operands
.RB ( "drover validate runbook.yaml \\-\\-quiet" );
.B \\-\\-
ends the options, so a file whose name starts with a dash is given after it.
Long options are written in full: a shortened one is refused with the name it began
(a script stays right when options are added, and
.B \\-\\-state
is never taken for
.BR \\-\\-state\\-dir ).
An unknown option, a missing value or a value given to a flag is a usage error
(exit status 2) reported in one line, followed by the command's usage.
.SH COMMANDS
EOT
"$drover" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | while read -r cmd; do
	printf '.SS %s\n' "$cmd"
	"$drover" "$cmd" --help | awk 'NR == 3' | esc
	printf '.PP\n.EX\n'
	"$drover" "$cmd" --help | awk 'NR == 1 || NR > 4' | esc
	printf '.EE\n'
done
cat <<'EOT'
.SH EXIT STATUS
.TP
.B 0
Success: the runbooks are valid, the run or drill succeeded, the plan is runnable.
.TP
.B 1
The run failed (or was rolled back), the drill left test VMs, or the plan is blocked.
.TP
.B 2
An invalid runbook, parameters or inventory, a usage error, or an output file whose folder is
missing (drover makes folders only in its state directory); nothing ran.
.TP
.B 3
An internal error; or what a command wrote could not all be written
(standard output, an
.B \-\-events
or
.B \-\-report
file: a full disk), which it says on standard error, with what is
incomplete and what is not (a run's journal is whole:
.B drover status
shows it).
.TP
.B 4
The run was cancelled (SIGINT or SIGTERM).
.TP
.B 5
Busy: another drover holds the run lock of this runbook and backend
("busy: run RUN-ID holds the lock", with its pid, host and start); nothing ran.
Wait for it to end, or stop it and resume it.
.SH ENVIRONMENT
.TP
.B NO_COLOR
When set and not empty, output has no colour. Colour is otherwise used only on a terminal.
.TP
.B DROVER_STDLIB
The stdlib directory, when \-\-stdlib is not given.
.TP
.B DROVER_STATE_DIR
The state directory of runs and journals (default .drover).
.TP
.B DROVER_CLOCK
real or virtual: the default of \-\-clock (without it: virtual for a runbook on the
simulator at speed 0, its default, else real).
.TP
.B DROVER_SIM_STATE
The simulator's state file; :memory: keeps no file.
.TP
.B DROVER_SIM_FAULTS
Faults the simulator injects, as YAML: a list of maps like the runbook's
backend.faults (docs/backends.md), added to the runbook's own.
.TP
.B DROVER_LOAD_MAX_BYTES
The largest runbook file accepted (default 8 MiB).
.TP
.B DROVER_JOURNAL_STATS
When 1, a run prints the journal writer's figures (records, syncs) on standard
error at the end.
.TP
.B AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_CLIENT_CERTIFICATE_PATH AZURE_CLIENT_CERTIFICATE_PASSWORD AZURE_CLIENT_SEND_CERTIFICATE_CHAIN AZURE_FEDERATED_TOKEN_FILE AZURE_AUTHORITY_HOST AZURE_POD_IDENTITY_AUTHORITY_HOST
The Azure backend's credentials, read in the order and with the meaning of
Azure's DefaultAzureCredential (client secret, client certificate, workload
identity, managed identity, then the Azure CLI).
.TP
.B TERM
When dumb, output has no colour.
.TP
.B SUDO_USER SUDO_UID
For root running drover approve under sudo: the approver is the user who ran sudo
(when the password database gives that name that uid). Otherwise the approver is
the operating-system user running drover approve; USER and \-\-as are never
taken as the approver's identity (\-\-as is recorded as a note).
.TP
.B HOME
Where check.ssh finds a key or known_hosts path written as ~/...
.TP
.B TMPDIR
Where check.ssh keeps the log and the accept\-new known_hosts file of an attempt
(deleted after it; default /tmp).
.SH FILES
.TP
.I .drover/runs/RUN-ID/journal.jsonl
The write-ahead journal of a run (docs/journal.md).
.TP
.I /usr/local/share/drover/stdlib
Composite actions installed with drover (under the PREFIX it was installed with;
\fB$DROVER_STDLIB\fR or \fB\-\-stdlib\fR name another folder).
.SH EXAMPLES
.EX
drover validate runbooks/*.yaml
drover graph \-\-format dot runbook.yaml | dot \-Tsvg > plan.svg
drover plan \-\-estimate runbook.yaml
drover drill runbook.yaml
drover run runbook.yaml
drover resume shop\-failover\-20261126T101500Z\-a1b2
.EE
.SH SEE ALSO
.BR dot (1)
EOT
