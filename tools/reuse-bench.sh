#!/usr/bin/env bash
# Server connections opened under connection churn: haproxy-rs against upstream haproxy.
#
# Usage: tools/reuse-bench.sh [PROXY_BINARY]   (default: target/release/haproxy-rs)
#
# Starts an nginx origin (with `stub_status`) and, one after the other, upstream `haproxy`
# and haproxy-rs with the same configuration, for each `http-reuse` mode of MODES
# (default: safe aggressive always). Each gets
# 50 concurrent clients that close after every request: `ab -c 50` without `-k` (HTTP/1.0,
# no keep-alive; a `Connection: close` header would make both proxies close the server
# side too). Every request is then the first of its client connection and reuse happens
# only through the server-side pools (so `safe` cannot reuse at all, by design). nginx's `accepts` counter, read before and after each run, gives the
# number of server connections each proxy opened. The script prints requests, server
# connections and requests per server connection for both, and the ratio.
#
# Exit status: 0 haproxy-rs opened no more server connections per request than upstream
# in every mode (2% tolerance for scheduling noise), 1 it opened more, 2 setup error. Environment: REQUESTS (default 50000), CONNS
# (default 50), MODES, NBTHREAD (default: unset, upstream's own default of one thread per CPU),
# KEEP=1 keeps the temp directory.

set -u

here=$(cd "$(dirname "$0")" && pwd)
proxy=${1:-$here/../target/release/haproxy-rs}
requests=${REQUESTS:-50000}
conns=${CONNS:-50}

fatal() {
    echo "reuse-bench: $*" >&2
    exit 2
}

for tool in nginx ab curl haproxy python3; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
        fatal "$tool is not installed"
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$proxy" ] || fatal "no proxy binary at $proxy (build it, or pass its path)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hrs-reuse-bench.XXXXXX") || fatal "mktemp failed"
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

wait_http() {
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    return 1
}

nginx_port=$(free_port)
status_port=$(free_port)
proxy_port=$(free_port)

mkdir -p "$tmp/www" "$tmp/nginx"
head -c 1024 /dev/urandom >"$tmp/www/small.bin"
user_line=
if [ "$(id -u)" = 0 ]; then
    # as root, nginx would switch its workers to "nobody", who cannot read the temp dir
    user_line="user $(id -un) $(id -gn);"
fi
cat >"$tmp/nginx/nginx.conf" <<NGINX
$user_line
daemon off;
master_process on;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/www;
    }
    server {
        listen 127.0.0.1:$status_port;
        location / { stub_status; }
    }
}
NGINX
"$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
    >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
wait_http "http://127.0.0.1:$nginx_port/small.bin" ||
    fatal "nginx does not answer on 127.0.0.1:$nginx_port"

# nginx's accepted connections so far (each status request is one of them)
accepts() {
    curl -sf "http://127.0.0.1:$status_port/" | awk 'NR == 3 { print $1 }'
}

# write_cfg MODE: the proxy configuration for one http-reuse mode
write_cfg() {
    local nbthread_line=
    [ -n "${NBTHREAD:-}" ] && nbthread_line="nbthread $NBTHREAD"
    cat >"$tmp/haproxy.cfg" <<CFG
global
    maxconn 4000
    $nbthread_line
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$proxy_port
    default_backend be
backend be
    http-reuse $1
    server nginx 127.0.0.1:$nginx_port
CFG
}

# run NAME BINARY: prints "requests server_connections"
run() {
    "$2" -db -f "$tmp/haproxy.cfg" >"$tmp/$1.log" 2>&1 &
    proxy_pid=$!
    wait_http "http://127.0.0.1:$proxy_port/small.bin" || {
        tail -n 20 "$tmp/$1.log" >&2
        fatal "$1 does not answer on 127.0.0.1:$proxy_port"
    }
    local before after out reqs
    before=$(accepts)
    out="$tmp/ab-$1.log"
    ab -n "$requests" -c "$conns" "http://127.0.0.1:$proxy_port/small.bin" >"$out" 2>&1
    after=$(accepts)
    kill "$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
    proxy_pid=
    reqs=$(awk '/^Complete requests:/ { print $3 }' "$out")
    # the status request of the second `accepts` is not the proxy's
    echo "${reqs:-0} $((after - before - 1))"
}

status=0
printf "%-11s %-10s %10s %12s %14s\n" mode proxy requests "server conns" requests/conn
for mode in ${MODES:-safe aggressive always}; do
    write_cfg "$mode"
    read -r up_reqs up_conns < <(run haproxy "$haproxy_bin")
    read -r rs_reqs rs_conns < <(run haproxy-rs "$proxy")
    { [ "${up_reqs:-0}" -gt 0 ] && [ "${rs_reqs:-0}" -gt 0 ]; } ||
        fatal "ab made no request (rerun with KEEP=1 and read the logs)"
    awk -v m="$mode" -v ur="$up_reqs" -v uc="$up_conns" -v rr="$rs_reqs" -v rc="$rs_conns" 'BEGIN {
        printf "%-11s %-10s %10d %12d %14.1f\n", m, "haproxy", ur, uc, (uc ? ur / uc : ur)
        printf "%-11s %-10s %10d %12d %14.1f\n", m, "haproxy-rs", rr, rc, (rc ? rr / rc : rr)
        up = uc / ur; rs = rc / rr
        printf "%-11s server connections per request, haproxy-rs / haproxy: %.3f\n", m, (up ? rs / up : 0)
        exit (rs <= up * 1.02 + 1e-9) ? 0 : 1
    }' || status=1
done
exit $status
