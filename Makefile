# haproxy-rs: build, run the example, test. `make test` is what CI runs.
CARGO ?= cargo

.PHONY: all build run test deps check fmt clippy bench clean

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
# corpus against upstream haproxy.
test: deps
	$(CARGO) test --workspace

check: fmt clippy test

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Side-by-side measurements (not tests): server connections opened per request under
# one-request clients, upstream haproxy vs haproxy-rs, per http-reuse mode; HTTP/2 client
# throughput and CPU per request (h2load), upstream haproxy vs haproxy-rs.
bench: build deps
	tools/reuse-bench.sh target/release/haproxy-rs
	tools/h2-bench.sh target/release/haproxy-rs

clean:
	$(CARGO) clean
