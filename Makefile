# drover - a declarative runbook interpreter for disaster recovery.
#
#   make            build build/default/drover
#   make check      unit tests, golden tests, schema freshness, runbook validation
#   make check-asan the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       libFuzzer on the front end, ${...}, the journal reader and resume, bind and exec,
#                   graph --diff: FUZZ_SECONDS each (not in check)
#   make demo       run examples/quickstart.yaml on the embedded simulator
#   make deps       install missing Debian -dev packages (as root)
#   make install    PREFIX=/usr/local DESTDIR=

VERSION   := 0.1.0
# The release's date: the man page's (docs/gen-man.sh reads it here).
RELEASE_DATE := 2026-12-06
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/drover
DESTDIR   ?=

CC        ?= cc
PKGS      := yaml-0.1 libcurl libcjson libpcre2-8 libmicrohttpd libcrypto
TEST_PKGS := cmocka
DEB_PKGS  := pkg-config libyaml-dev libcurl4-openssl-dev libcjson-dev libpcre2-dev libmicrohttpd-dev libcmocka-dev libssl-dev
# Tools the tests run against drover's output (real clients and servers, not stand-ins);
# `make deps` installs them too, so `make check` needs nothing installed by hand.
TEST_DEB_PKGS := nodejs prometheus libxml2-utils chromium systemd openssh-server openssh-client curl jq mandoc graphviz tmux

VARIANT   ?= default
SANITIZE  ?=
ifeq ($(VARIANT),asan)
SANITIZE  := address,undefined,float-cast-overflow
endif
ifeq ($(VARIANT),tsan)
SANITIZE  := thread
endif
# The library instrumented for libFuzzer (tests/fuzz/README.md); the targets add the fuzzer's main.
ifeq ($(VARIANT),fuzz)
SANITIZE  := fuzzer-no-link,address,undefined
endif

B         := build/$(VARIANT)
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wwrite-strings -Wformat=2 -Wvla -Wno-format-nonliteral
OPT       ?= -O2 -g
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP -Iinterpreter \
             -I$(B) \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LIBS       = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

LIB_SRC   := $(sort $(wildcard interpreter/*.c interpreter/*/*.c))
LIB_SRC   := $(filter-out interpreter/main.c,$(LIB_SRC))
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
MAIN_OBJ  := $(B)/interpreter/main.o
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# What the unit tests share (tests/unit/*.c other than test_*.c: fixture.c), linked into each as a library.
UNIT_LIB_SRC := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))
UNIT_LIB  := $(B)/tests/libunit.a
DROVER    := $(B)/drover
TORTURE   := $(B)/tests/torture
TORTURE_SEEDS ?= 250

.PHONY: test-npm all all-tests check check-asan check-tsan unit golden demo demo-run deps install install-man uninstall clean \
        bench docs torture fuzz fuzz-build
all: $(DROVER)

V ?= 0
ifeq ($(V),0)
Q := @
endif

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

# Build-time settings that change with PREFIX live in one generated header,
# rewritten only when its content changes, so `make install PREFIX=...`
# rebuilds just what depends on it.
$(B)/config.h: FORCE
	@mkdir -p $(B)
	@printf '#define DROVER_VERSION "%s"\n#define DROVER_DATADIR "%s"\n' '$(VERSION)' '$(DATADIR)' > $@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(LIB_OBJ) $(MAIN_OBJ): | $(B)/config.h

$(B)/libdrover.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(DROVER): $(MAIN_OBJ) $(B)/libdrover.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/unit/%.o: tests/unit/%.c | $(B)/config.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null) -c $< -o $@

$(UNIT_LIB): $(UNIT_LIB_SRC:tests/unit/%.c=$(B)/tests/unit/%.o)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(B)/tests/%: tests/unit/%.c $(UNIT_LIB) $(B)/libdrover.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null) $(LDFLAGS) -o $@ $< \
		$(UNIT_LIB) $(B)/libdrover.a $(LIBS) $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

# The whole test suite; the last line is "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory all-tests
	@tests/run-all.sh $(B)

RDP_RESPONDER := $(B)/tests/rdp_responder
all-tests: $(DROVER) $(UNIT_BIN) $(TORTURE) $(RDP_RESPONDER)

# The minimal Remote Desktop responder check.rdp's tests talk to (tests/login/).
$(RDP_RESPONDER): tests/login/rdp_responder.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $<

# The crash-torture driver (tests/torture/torture.c): kills drover runs, resumes them, checks the simulator.
$(TORTURE): tests/torture/torture.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(LIBS)

# The crash-torture test at full size (docs/journal.md): at least 200 SIGKILLs, then the tally.
# (make check runs a quick version.) TORTURE_SEEDS=1000 make torture for more.
torture: $(DROVER) $(TORTURE)
	@$(TORTURE) --drover $(DROVER) --plan tests/torture/plan.yaml --seeds $(TORTURE_SEEDS) --min-kills 200 \
		--work $(B)/torture
	@$(TORTURE) --drover $(DROVER) --plan tests/torture/rollback.yaml --seeds 100 --min-kills 50 \
		--expect-active Primary --op failover --op cancel_failover --expect-exit 1 --expect-status rolled_back \
		--work $(B)/torture-rollback

check-asan: deps
	@$(MAKE) --no-print-directory VARIANT=asan OPT='-O1 -g' all-tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run-all.sh build/asan

# libFuzzer, clang only: the library built with -fsanitize=fuzzer-no-link,address,undefined in
# build/fuzz/, each target run FUZZ_SECONDS on a corpus kept in build/fuzz/corpus/ and seeded from the
# shipped runbooks and golden cases. Fails on the first crash, leak, UB or hang (tests/fuzz/run.sh).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := frontend expr journal run graphdiff
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(B)/fuzz_%)

fuzz: deps
	@$(MAKE) --no-print-directory VARIANT=fuzz CC=$(FUZZ_CC) OPT='-O1 -g' fuzz-build
	@tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BIN)

# By absolute path, so __FILE__ finds the stdlib next to the harness.
$(B)/fuzz_%: tests/fuzz/fuzz_%.c $(B)/libdrover.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer,address,undefined -o $@ $(abspath $<) $(B)/libdrover.a $(LIBS)

check-tsan: deps
	@$(MAKE) --no-print-directory VARIANT=tsan OPT='-O1 -g' all-tests
	@tests/run-all.sh build/tsan unit

# deps first, then a fresh make: pkg-config flags are read when make starts,
# so on a new machine the build must start after the packages are installed.
demo: deps
	@$(MAKE) --no-print-directory demo-run

# The quickstart end to end on the simulator, in a fresh state directory each
# time (no state leaks between demos); --yes grants the approval gate, and the
# run says so on screen.
demo-run: $(DROVER)
	$(DROVER) validate examples/quickstart.yaml
	$(DROVER) graph --format mermaid examples/quickstart.yaml
	@rm -rf $(B)/demo
	$(DROVER) run --yes --state-dir $(B)/demo examples/quickstart.yaml

# Install the Debian packages drover builds against, when any is missing.
deps:
	@missing=""; for p in $(DEB_PKGS) $(TEST_DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "drover: missing packages:$$missing" >&2; \
			echo "drover: run 'sudo make deps' or: sudo apt-get install -y$$missing" >&2; exit 1; \
		fi; \
		echo "installing:$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing </dev/null; \
	fi

# npm packages the tests run (tests/npm/package-lock.json pins every version), into build/npm;
# the tests call this target themselves.
NPM_DIR := build/npm
test-npm: $(NPM_DIR)/node_modules/.drover-installed
$(NPM_DIR)/node_modules/.drover-installed: tests/npm/package.json tests/npm/package-lock.json
	@mkdir -p $(NPM_DIR)
	@cp tests/npm/package.json tests/npm/package-lock.json $(NPM_DIR)/
	$(Q)cd $(NPM_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

docs: $(DROVER)
	@docs/generate.sh $(DROVER)

# Benchmarks print figures against the issues' targets; they are not tests.
bench: $(DROVER) $(B)/libdrover.a
	@bench/run.sh $(B)
	@echo
	@bench/bench_tasks.sh $(B)
	@echo
	@bench/bench_exec_run.sh $(B)
	@echo
	@bench/bench_waves.sh $(B)
	@echo
	@bench/bench_journal.sh $(B)
	@echo
	@bench/bench_emulator.sh $(B)
	@echo
	@bench/bench_azure.sh $(B)
	@echo
	@bench/bench_reports.sh $(B)
	@echo
	@bench/bench_front.sh $(B)
	@echo
	@bench/bench_run.sh $(B)
	@echo
	@bench/bench_plan.sh $(B)
	@echo
	@bench/bench_status.sh $(B)
	@echo
	@bench/bench_simstate.sh $(B)

install: $(DROVER) install-man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/stdlib
	install -m 755 $(DROVER) $(DESTDIR)$(BINDIR)/drover
	install -m 644 stdlib/*.yaml $(DESTDIR)$(DATADIR)/stdlib/

# The man page names the folders of this PREFIX (docs/drover.1 is written for /usr/local).
install-man:
	install -d $(DESTDIR)$(MANDIR)/man1
	sed 's|/usr/local/share/drover|$(DATADIR)|g' docs/drover.1 > $(DESTDIR)$(MANDIR)/man1/drover.1
	chmod 644 $(DESTDIR)$(MANDIR)/man1/drover.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/drover $(DESTDIR)$(MANDIR)/man1/drover.1
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d) $(UNIT_LIB_SRC:tests/unit/%.c=$(B)/tests/unit/%.d) $(FUZZ_BIN:=.d)
