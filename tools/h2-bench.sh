#!/usr/bin/env bash
# HTTP/2 client throughput: haproxy-rs next to upstream haproxy, same run, same config.
#
# Usage: tools/h2-bench.sh [PROXY_BINARY]   (default: target/release/haproxy-rs)
#
# Starts an nginx origin (one worker, `return 200` of a small body, HTTP/1.1) and then each
# proxy in turn (upstream `haproxy` first, then haproxy-rs, A B A B... for ROUNDS rounds),
# both `nbthread 1`, with a `bind ... proto h2` frontend. For each h2load profile
# (-c 10 -m 10, -c 100 -m 10, -c 1 -m 100; N requests each) it records requests per second
# and the proxy's CPU time per request (user + system from /proc/PID/stat, the figure least
# disturbed by a noisy machine), then prints per profile the median of each proxy and the
# ratio haproxy-rs / haproxy (higher is better for req/s, lower for CPU per request).
#
# Exit status: 0 measured (whatever the ratios), 1 a run had failed requests, 2 setup
# error. Environment: REQUESTS (default 100000), ROUNDS (default 3), KEEP=1 keeps the temp
# directory.

set -u

here=$(cd "$(dirname "$0")" && pwd)
proxy=${1:-$here/../target/release/haproxy-rs}
requests=${REQUESTS:-100000}
rounds=${ROUNDS:-3}

fatal() {
    echo "h2-bench: $*" >&2
    exit 2
}

for tool in nginx h2load haproxy python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
        fatal "$tool is not installed"
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$proxy" ] || fatal "no proxy binary at $proxy (build it, or pass its path)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hrs-h2-bench.XXXXXX") || fatal "mktemp failed"
nginx_pid=
proxy_pid=

cleanup() {
    for pid in $proxy_pid $nginx_pid; do
        kill "$pid" 2>/dev/null
    done
    for pid in $proxy_pid $nginx_pid; do
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "${KEEP:-}" ]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_up() {
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "$@" && return 0
        sleep 0.05
    done
    return 1
}

nginx_port=$(free_port)
proxy_port=$(free_port)
user_line=
[ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        location / { return 200 "hello from nginx\n"; }
    }
}
EOF
"$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
    >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
wait_up "http://127.0.0.1:$nginx_port/" || fatal "nginx does not answer"

cat >"$tmp/proxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$proxy_port proto h2
    default_backend be
backend be
    server nginx 127.0.0.1:$nginx_port
EOF

profiles=("-c 10 -m 10" "-c 100 -m 10" "-c 1 -m 100")
failed=0
: >"$tmp/results"
# one run: proxy binary, label, round
run_proxy() {
    local bin=$1 label=$2
    "$bin" -db -f "$tmp/proxy.cfg" >"$tmp/$label.log" 2>&1 &
    proxy_pid=$!
    wait_up --http2-prior-knowledge "http://127.0.0.1:$proxy_port/" ||
        fatal "$label does not answer (see $tmp/$label.log)"
    local i=0
    for p in "${profiles[@]}"; do
        local t0 t1 out
        t0=$(awk '{ print $14 + $15 }' "/proc/$proxy_pid/stat")
        # shellcheck disable=SC2086
        out=$(h2load -n "$requests" $p "http://127.0.0.1:$proxy_port/" 2>&1)
        t1=$(awk '{ print $14 + $15 }' "/proc/$proxy_pid/stat")
        local ok rps
        ok=$(echo "$out" | awk '/^requests:/ { print $8 }')
        rps=$(echo "$out" | awk '/^finished in/ { print $4 }')
        if [ "$ok" != "$requests" ]; then
            echo "h2-bench: $label $p: $(echo "$out" | grep '^requests:')" >&2
            failed=1
        fi
        # CPU microseconds per request (clock ticks are 1/100 s)
        local cpu
        cpu=$(awk -v a="$t0" -v b="$t1" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "%.2f", (b - a) * 1000000 / hz / n }')
        echo "$i $label $rps $cpu" >>"$tmp/results"
        i=$((i + 1))
    done
    kill "$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
    proxy_pid=
}

for r in $(seq 1 "$rounds"); do
    run_proxy "$haproxy_bin" haproxy "$r"
    run_proxy "$proxy" haproxy-rs "$r"
done

echo "h2-bench: h2load -n $requests, $rounds rounds, nbthread 1 each; origin nginx (1 worker)"
printf '%-14s %14s %14s %8s %16s %16s %8s\n' "profile" "haproxy req/s" "hrs req/s" "ratio" \
    "haproxy us/req" "hrs us/req" "ratio"
i=0
for p in "${profiles[@]}"; do
    python3 - "$tmp/results" "$i" "$p" <<'PY'
import statistics, sys
path, idx, prof = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [l.split() for l in open(path) if l.split()[0] == idx]
def med(label, col):
    return statistics.median(float(r[col]) for r in rows if r[1] == label)
hr, rr = med("haproxy", 2), med("haproxy-rs", 2)
hc, rc = med("haproxy", 3), med("haproxy-rs", 3)
print(f"{prof:<14} {hr:14.0f} {rr:14.0f} {rr / hr:8.2f} {hc:16.2f} {rc:16.2f} {rc / hc if hc else 0:8.2f}")
PY
    i=$((i + 1))
done
exit "$failed"
