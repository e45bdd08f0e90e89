# haproxy-rs: build, run the example, test, benchmark. `make test` is what CI runs.
CARGO ?= cargo

.PHONY: all build run test deps check fmt clippy soak bench bench-deps mutants clean

all: build

build:
	$(CARGO) build --release

# Builds and runs haproxy-rs in the foreground on the example configuration.
run: build
	./target/release/haproxy-rs -d -f examples/haproxy.cfg

# Installs what the differential tests compare against (Debian's haproxy 2.6), if missing.
deps:
	@command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq haproxy; }

# Every test: unit tests of each crate, the end-to-end tests in tests/, the differential
# corpus against upstream haproxy. Without upstream the differential cases run on our side
# only, against their recorded outcomes, and the summary at the end says how many; CI sets
# HRS_REQUIRE_UPSTREAM=1, which makes them fail instead (tests/common/reference.rs).
TEST_NOTES ?= $(CURDIR)/$(or $(CARGO_TARGET_DIR),target)/hrs-test-notes
test: deps
	@rm -rf "$(TEST_NOTES)"
	@HRS_TEST_NOTES="$(TEST_NOTES)" $(CARGO) test --workspace; status=$$?; \
	  tools/test-summary.sh "$(TEST_NOTES)"; exit $$status

check: fmt clippy test

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The long run of tests/threads_stress.rs (docs/testing.md): nbthread 4, SOAK_CLIENTS
# clients for SOAK_SECS seconds against the debug binary while servers are disabled and
# enabled on the stats socket (`make test` runs it with 50 clients for 8 s). SOAK_SEED
# replays a run's choices (the seed is printed at the start).
SOAK_SECS ?= 30
SOAK_CLIENTS ?= 200
SOAK_SEED ?=
soak:
	HRS_TSTRESS_SECS=$(SOAK_SECS) HRS_TSTRESS_CLIENTS=$(SOAK_CLIENTS) HRS_TSTRESS_SEED=$(SOAK_SEED) \
	  $(CARGO) test -p haproxy-rs --test threads_stress -- --nocapture

# Installs what `make bench` drives, if missing: wrk, h2load (nghttp2-client), ab
# (apache2-utils), nginx (backend and reverse proxy), haproxy (upstream 2.6).
bench-deps:
	@need=; \
	  command -v wrk >/dev/null 2>&1 || need="$$need wrk"; \
	  command -v h2load >/dev/null 2>&1 || need="$$need nghttp2-client"; \
	  command -v ab >/dev/null 2>&1 || need="$$need apache2-utils"; \
	  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need="$$need nginx"; \
	  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need="$$need haproxy"; \
	  if [ -n "$$need" ]; then \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need; \
	  fi

# Side-by-side measurements (not tests), tools/bench (hrs-bench): haproxy-rs, upstream
# haproxy 2.6 and nginx in front of one nginx backend, rounds alternated; keep-alive,
# close-per-request (server connections per http-reuse mode), HTTP/2, idle-connection
# memory, latency. Prints the tables, writes target/bench/results.json and the generated
# part of docs/performance.md. Options: BENCH_ARGS='--only S2 --rounds 5' (see --help).
BENCH_ARGS ?=
bench: build bench-deps
	$(CARGO) run --release -p hrs-bench -- --proxy target/release/haproxy-rs $(BENCH_ARGS)

# Mutation testing (docs/testing.md): cargo-mutants (a dev tool, installed here if missing,
# not a dependency of the product) plants one bug at a time in each crate with behaviour and
# runs that crate's own tests. Takes hours on 2 cores: MUTANTS_CRATES narrows the crates,
# MUTANTS_ARGS passes options (`--iterate` retests only what was not caught last time,
# `--shard 1/4`, `-j 2`, `-f crates/http/src/msg.rs`). Results in target/mutants/<crate>/,
# the per-crate table on stdout.
MUTANTS_CRATES ?= hrs-http hrs-cfg hrs-sample hrs-backend hrs-conn hrs-stream
MUTANTS_ARGS ?=
mutants:
	@command -v cargo-mutants >/dev/null 2>&1 || $(CARGO) install --locked cargo-mutants
	@for c in $(MUTANTS_CRATES); do \
	  echo "== cargo mutants -p $$c"; \
	  $(CARGO) mutants -p $$c -o target/mutants/$$c $(MUTANTS_ARGS); \
	  case $$? in 0|2|3) ;; *) exit 1;; esac; \
	done
	@tools/mutants-summary.sh target/mutants

clean:
	$(CARGO) clean
