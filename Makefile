# metrics-apiserver - one non-recursive build.
#
#   make deps      install the Debian packages the build, tests and benches need
#   make           release build (-O2) into build/
#   make test      make lint, every Check suite, then every end-to-end suite
#   make lint      banned calls, strto* end checks, global names (nm) + its selftest
#   make asan      ASan+UBSan build and test run (build-asan/)
#   make valgrind  Check suites under valgrind (leak check)
#   make demo      kubesim + metrics-apiserver + real kubectl top
#   make demo-hpa  the embedded HPA on a load step up / hold / step down (CSV, PNG)
#   make demo-custom  custom metrics from a rules file, an HPA on them (CSV, PNG)
#   make bench-*   benchmarks (print figures; not part of make test)
#   make bench-pods [TARGETS=10000] [SERIES=50] [SECONDS_MEASURED=60]
#                  us, Prometheus and vmagent scraping the same kubesim pods
#   make clean
#
# Sources are found by folder, so adding a file needs no Makefile change:
#   common/ kube/ scraper/ store/ series/ apis/ certs/ hpa/ hpaloop/ rules/ promql/ custom/
#   server/                                                 -> libmas.a
#   cmd/*.c (main.c is the entry point; front ends, stdio)  -> metrics-apiserver
#   test/kubesim/*.c (main.c is the entry point)            -> kubesim
#   test/unit/check_<module>.c                              -> one Check binary each
#                                  (check_cmd_* also link cmd/ but main.c)
#   test/unit/<group>_fixture.c                             -> linked into check_<group>_*
#   test/e2e/NN-<name>.sh                                   -> end-to-end suites
#   test/bench/bench_<name>.c                               -> benchmark drivers

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
PKGS    := libmicrohttpd jansson libcurl gnutls yaml-0.1
DEBS    := build-essential pkg-config libmicrohttpd-dev libjansson-dev \
           libcurl4-gnutls-dev libgnutls28-dev libyaml-dev check valgrind \
           clang gnuplot-nox curl jq prometheus victoria-metrics python3-yaml

# What building the server alone needs (a container's build stage), and what
# running it needs (its runtime stage): `make print-runtime-debs`.
BUILD_DEBS   := build-essential pkg-config libmicrohttpd-dev libjansson-dev \
                libcurl4-gnutls-dev libgnutls28-dev libyaml-dev
RUNTIME_DEBS := libmicrohttpd12 libjansson4 libcurl3-gnutls libgnutls30 libyaml-0-2 ca-certificates
PREFIX  ?= /usr/local
DESTDIR ?=

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) check 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -I. -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

LIB_DIRS := common kube scraper store series apis certs hpa hpaloop rules promql custom server
LIB_SRCS := $(wildcard $(addsuffix /*.c,$(LIB_DIRS)))
CMD_SRCS := $(filter-out cmd/main.c,$(wildcard cmd/*.c))
SIM_SRCS := $(filter-out test/kubesim/main.c,$(wildcard test/kubesim/*.c))
UNIT_SRCS := $(wildcard test/unit/check_*.c)
TESTLIB_SRCS := $(wildcard test/unit/testlib*.c)
FIXTURE_SRCS := $(wildcard test/unit/*_fixture.c)
BENCH_SRCS := $(wildcard test/bench/bench_*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/%.o)
SIM_OBJS := $(SIM_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(BUILD)/%.o)
BENCH_BINS := $(BENCH_SRCS:test/bench/%.c=$(BUILD)/test/%)

SERVER_BIN := $(BUILD)/metrics-apiserver
SIM_BIN    := $(BUILD)/kubesim

.PHONY: all server deps deps-build deps-check install print-runtime-debs test unit e2e asan valgrind demo demo-hpa demo-custom clean \
        bench-parser bench-scrape bench-kubesim bench-hpa bench-store bench-series bench-pods bench-api lint

all: deps-check $(SERVER_BIN) $(SIM_BIN) $(UNIT_BINS) $(BENCH_BINS)

# ---- dependencies --------------------------------------------------------

# Installs every package; run by `make deps` and by any target when one is missing.
deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	 $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEBS)

deps-check:
	@missing=; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	 if [ -n "$$missing" ]; then echo "installing missing packages:$$missing"; $(MAKE) --no-print-directory deps; fi

# ---- build ---------------------------------------------------------------

# V=1 shows full command lines.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libmas.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libkubesim.a: $(SIM_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SERVER_BIN): $(BUILD)/cmd/main.o $(CMD_OBJS) $(BUILD)/libmas.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(SIM_BIN): $(BUILD)/test/kubesim/main.o $(BUILD)/libkubesim.a $(BUILD)/libmas.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The fixture objects of suite check_$(1): test/unit/<group>_fixture.c for
# every <group> that $(1) is or starts with "<group>_" (sibling suites share it).
fixtures_of = $(foreach g,$(FIXTURE_SRCS:test/unit/%_fixture.c=%),$(if $(filter $(g) $(g)_%,$(1)),$(BUILD)/test/unit/$(g)_fixture.o))

# Second expansion: $$* (the suite's name) picks the fixtures above.
.SECONDEXPANSION:

# Suites named check_kubesim_* also link the simulator's objects.
$(BUILD)/test/check_kubesim_%: $(BUILD)/test/unit/check_kubesim_%.o $$(call fixtures_of,kubesim_$$*) $(TESTLIB_OBJS) $(BUILD)/libkubesim.a $(BUILD)/libmas.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

# Suites named check_cmd_* also link the front ends (not main.o).
$(BUILD)/test/check_cmd_%: $(BUILD)/test/unit/check_cmd_%.o $$(call fixtures_of,cmd_$$*) $(TESTLIB_OBJS) $(CMD_OBJS) $(BUILD)/libmas.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

$(BUILD)/test/check_%: $(BUILD)/test/unit/check_%.o $$(call fixtures_of,$$*) $(TESTLIB_OBJS) $(BUILD)/libmas.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

$(BUILD)/test/bench_%: $(BUILD)/test/bench/bench_%.o $(BUILD)/libmas.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Test and bench objects are intermediates of a pattern chain: keep them.
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- tests ---------------------------------------------------------------

# Unit suites run from the top folder (fixtures are found by relative path);
# e2e suites get the binaries through the environment.
test: all
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory e2e

unit: all
	@fail=0; for t in $(UNIT_BINS); do \
	   echo "== $$t"; CK_DEFAULT_TIMEOUT=60 $$t || fail=1; \
	 done; exit $$fail

e2e: all
	@BUILD=$(abspath $(BUILD)) test/e2e/run.sh

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

valgrind: all
	@fail=0; for t in $(UNIT_BINS); do \
	   echo "== valgrind $$t"; \
	   CK_FORK=no CK_DEFAULT_TIMEOUT=600 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	     --error-exitcode=99 $$t || fail=1; \
	 done; exit $$fail

# The PromQL oracle: every test/data/promql/*.yml through the real
# Prometheus evaluator (Debian's promtool), when it is installed.  Not part
# of make test; check_promql_eval runs the same files through promql/.
.PHONY: check-promql-oracle
check-promql-oracle:
	@if ! command -v promtool >/dev/null 2>&1; then echo "promtool not installed: skipped"; exit 0; fi; \
	 fail=0; for f in test/data/promql/*.yml; do promtool test rules $$f || fail=1; done; exit $$fail

# Banned calls, strto* end checks and global names (from the archive's
# objects), then the lint's own test on a planted tree.
lint: $(BUILD)/libmas.a
	@test/lint.sh --build $(BUILD)
	@CC=$(CC) test/lint_selftest.sh

# ---- demo and benchmarks -------------------------------------------------

demo: all
	@BUILD=$(abspath $(BUILD)) test/demo/demo.sh

demo-hpa: all
	@BUILD=$(abspath $(BUILD)) test/demo/demo-hpa.sh

demo-custom: all
	@BUILD=$(abspath $(BUILD)) test/demo/demo-custom.sh

bench-parser: all
	$(BUILD)/test/bench_parser test/data/kubelet

NODES ?= 1000
PODS  ?= 30
SECONDS_MEASURED ?= 120
bench-scrape: all
	@BUILD=$(abspath $(BUILD)) NODES=$(NODES) PODS=$(PODS) SECONDS_MEASURED=$(SECONDS_MEASURED) BASELINE=$(BASELINE) test/bench/scrape.sh

# Scrape rounds into the store alone: us per node, page faults, RSS (store/).
bench-store: deps-check $(BUILD)/test/bench_store
	$(BUILD)/test/bench_store $(or $(BENCH_NODES),10000) $(PODS) 1 10

# Scrapes into the custom-metrics series store alone: ns per sample appended (series/).
bench-series: deps-check $(BUILD)/test/bench_series
	$(BUILD)/test/bench_series $(or $(TARGETS),10000) $(or $(SERIES),50) 8

# Us, Prometheus and vmagent (Debian packages prometheus, victoria-metrics)
# scraping the same TARGETS kubesim pods of SERIES series each in one run:
# CPU and RSS from /proc, ratios.  SECONDS_MEASURED defaults to 60 here.
bench-api: all
	@BUILD=$(abspath $(BUILD)) CONNECTIONS=$(or $(CONNECTIONS),16) \
	 SECONDS_MEASURED=$(if $(filter command line environment,$(origin SECONDS_MEASURED)),$(SECONDS_MEASURED),10) \
	 test/bench/api.sh

bench-pods: all
	@BUILD=$(abspath $(BUILD)) TARGETS=$(or $(TARGETS),10000) SERIES=$(or $(SERIES),50) \
	 SECONDS_MEASURED=$(if $(filter command line environment,$(origin SECONDS_MEASURED)),$(SECONDS_MEASURED),60) \
	 test/bench/pods.sh

bench-kubesim: all
	@BUILD=$(abspath $(BUILD)) NODES=$(or $(BENCH_NODES),10000) PODS=$(PODS) test/bench/kubesim.sh

# Load step -> scale write of the embedded HPA controller (measured, not asserted).
bench-hpa: all
	@BUILD=$(abspath $(BUILD)) test/bench/hpa.sh

# The server binary alone, without the test tools' packages (Dockerfile).
server: $(SERVER_BIN)

deps-build:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	 $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BUILD_DEBS)

install: $(SERVER_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(SERVER_BIN) $(DESTDIR)$(PREFIX)/bin/metrics-apiserver

print-runtime-debs:
	@echo $(RUNTIME_DEBS)

clean:
	rm -rf build build-asan
