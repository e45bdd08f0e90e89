#!/usr/bin/env bash
# Acceptance of the proxy: curl, wrk and ab (HTTP/1.1), curl, nghttp and h2load (HTTP/2)
# through haproxy-rs to nginx.
#
# Usage: tools/acceptance.sh [PROXY_BINARY]   (default: target/release/haproxy-rs)
#
# Starts, as the current user and in a fresh temp directory, an nginx serving two static
# files (4 KB and 100 KB) on 127.0.0.1, and the proxy in front of it (`-db -f cfg`), both on
# free ports. Then, through the proxy:
#   - curl: each file, byte for byte; both in one curl (one kept-alive connection);
#   - wrk -c 100 -t 2 -d 10s on each file: no "Socket errors", no "Non-2xx" line;
#   - ab -k -n 20000 -c 50 on each file: "Failed requests: 0", no "Non-2xx responses".
# Then HTTP/2 clients (h2c, prior knowledge) on a `bind ... proto h2` listener, when h2load
# and nghttp are installed (nghttp2-client):
#   - curl --http2-prior-knowledge: each file byte for byte, to the HTTP/1.1 nginx;
#   - nghttp: both files on one connection, byte for byte;
#   - h2load -n H2_REQUESTS with -c 10 -m 10, -c 100 -m 10 and -c 1 -m 100: every request
#     succeeded, no error, all 2xx;
#   - the same -c 10 -m 10 through a `server ... proto h2` to nginx's h2c listener.
# Finally the proxy must still run and its output must not mention a panic. Everything
# started here is stopped on exit (trap), whatever happens.
#
# Exit status: 0 all checks passed, 1 a check failed, 2 setup error (missing tool, nginx
# or the proxy does not start). Environment: WRK_DURATION (default 10s), AB_REQUESTS
# (default 20000), H2_REQUESTS (default 200000), NGINX_PORT / PROXY_PORT (default: free
# ports), KEEP=1 keeps the temp directory (configs, logs).

set -u

here=$(cd "$(dirname "$0")" && pwd)
proxy=${1:-$here/../target/release/haproxy-rs}
wrk_duration=${WRK_DURATION:-10s}
ab_requests=${AB_REQUESTS:-20000}
h2_requests=${H2_REQUESTS:-200000}

fatal() {
    echo "acceptance: $*" >&2
    exit 2
}

for tool in nginx wrk ab curl; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
        fatal "$tool is not installed"
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$proxy" ] || fatal "no proxy binary at $proxy (build it, or pass its path)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hrs-acceptance.XXXXXX") || fatal "mktemp failed"
nginx_pid=
proxy_pid=

cleanup() {
    for pid in $proxy_pid $nginx_pid; do
        kill "$pid" 2>/dev/null
    done
    for pid in $proxy_pid $nginx_pid; do
        # a few seconds to stop, then SIGKILL
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
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

# A free TCP port on 127.0.0.1 (bound to port 0, then released).
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

# Waits until `curl URL` succeeds (up to 5 s).
wait_http() {
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    return 1
}

nginx_port=${NGINX_PORT:-$(free_port)}
proxy_port=${PROXY_PORT:-$(free_port)}
[ "$nginx_port" != "$proxy_port" ] || proxy_port=$(free_port)
# HTTP/2: nginx's h2c listener, the proxy's h2 listener to HTTP/1.1 nginx, and its h2
# listener to the h2c nginx
nginx_h2_port=$(free_port)
proxy_h2_port=$(free_port)
proxy_h2h2_port=$(free_port)

# --- the origin: nginx with two static files --------------------------------------------
mkdir -p "$tmp/www" "$tmp/nginx"
head -c 4096 /dev/urandom >"$tmp/www/small.bin"
head -c 102400 /dev/urandom >"$tmp/www/big.bin"
user_line=
if [ "$(id -u)" = 0 ]; then
    # as root, nginx would switch its workers to "nobody", who cannot read the temp dir
    user_line="user $(id -un) $(id -gn);"
fi
cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
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
        listen 127.0.0.1:$nginx_h2_port http2;
        keepalive_requests 10000000;
        root $tmp/www;
    }
}
EOF
"$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
    >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
wait_http "http://127.0.0.1:$nginx_port/small.bin" || {
    cat "$tmp/nginx/error.log" "$tmp/nginx/stdout.log" >&2
    fatal "nginx does not answer on 127.0.0.1:$nginx_port"
}

# --- the proxy --------------------------------------------------------------------------
cat >"$tmp/haproxy.cfg" <<EOF
global
    maxconn 1000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$proxy_port
    bind 127.0.0.1:$proxy_h2_port proto h2
    default_backend be
frontend fe_h2
    bind 127.0.0.1:$proxy_h2h2_port proto h2
    default_backend be_h2
backend be
    server nginx 127.0.0.1:$nginx_port
backend be_h2
    http-reuse always
    server nginx_h2 127.0.0.1:$nginx_h2_port proto h2
EOF
"$proxy" -db -f "$tmp/haproxy.cfg" >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!
wait_http "http://127.0.0.1:$proxy_port/small.bin" || {
    tail -n 30 "$tmp/proxy.log" >&2
    fatal "$proxy does not answer on 127.0.0.1:$proxy_port"
}

base="http://127.0.0.1:$proxy_port"
failures=0
summary=()

pass() { summary+=("ok    $*"); }
fail() {
    summary+=("FAIL  $*")
    failures=$((failures + 1))
}

# --- curl: byte for byte, and two URLs on one kept-alive connection ----------------------
for f in small.bin big.bin; do
    if curl -sS -o "$tmp/got-$f" "$base/$f" && cmp -s "$tmp/got-$f" "$tmp/www/$f"; then
        pass "curl $f: $(wc -c <"$tmp/got-$f") bytes, identical"
    else
        fail "curl $f: the body differs from nginx's file (or curl failed)"
    fi
done
rm -f "$tmp"/got-*
if curl -sS -v -o "$tmp/ka-small" -o "$tmp/ka-big" "$base/small.bin" "$base/big.bin" \
    2>"$tmp/curl-ka.log" &&
    cmp -s "$tmp/ka-small" "$tmp/www/small.bin" && cmp -s "$tmp/ka-big" "$tmp/www/big.bin"; then
    if grep -qi "re-using existing connection" "$tmp/curl-ka.log"; then
        pass "curl small.bin + big.bin on one connection: identical"
    else
        fail "curl small.bin + big.bin: the connection was not kept alive"
    fi
else
    fail "curl small.bin + big.bin in one curl: a body differs (or curl failed)"
fi

# --- wrk -------------------------------------------------------------------------------
for f in small.bin big.bin; do
    out="$tmp/wrk-$f.log"
    wrk -c 100 -t 2 -d "$wrk_duration" "$base/$f" >"$out" 2>&1
    rc=$?
    reqs=$(awk '/requests in/ { print $1 }' "$out")
    rate=$(awk '/^Requests\/sec/ { print $2 }' "$out")
    if [ $rc -ne 0 ] || [ -z "$reqs" ] || [ "$reqs" = 0 ]; then
        fail "wrk $f: wrk failed (exit $rc): $(tr '\n' ' ' <"$out")"
    elif grep -qE "Socket errors|Non-2xx" "$out"; then
        fail "wrk $f: $reqs requests; $(grep -E 'Socket errors|Non-2xx' "$out" | tr -s ' ' | tr '\n' ';')"
    else
        pass "wrk $f: $reqs requests, $rate req/s, no socket error, no non-2xx"
    fi
done

# --- ab -k ------------------------------------------------------------------------------
for f in small.bin big.bin; do
    out="$tmp/ab-$f.log"
    ab -k -n "$ab_requests" -c 50 "$base/$f" >"$out" 2>&1
    rc=$?
    complete=$(awk '/^Complete requests:/ { print $3 }' "$out")
    failed=$(awk '/^Failed requests:/ { print $3 }' "$out")
    keepalive=$(awk '/^Keep-Alive requests:/ { print $3 }' "$out")
    rate=$(awk '/^Requests per second:/ { print $4 }' "$out")
    if [ $rc -ne 0 ] || [ "$complete" != "$ab_requests" ]; then
        fail "ab -k $f: ab failed (exit $rc, ${complete:-no} complete requests): $(tail -n 3 "$out" | tr '\n' ' ')"
    elif [ "$failed" != 0 ]; then
        fail "ab -k $f: $failed failed requests: $(grep -A3 '^Failed requests' "$out" | tr -s ' ' | tr '\n' ' ')"
    elif grep -q "Non-2xx responses" "$out"; then
        fail "ab -k $f: $(grep 'Non-2xx responses' "$out" | tr -s ' ')"
    else
        pass "ab -k $f: $complete requests ($keepalive kept alive), $rate req/s, 0 failed"
    fi
done

# --- HTTP/2 clients ----------------------------------------------------------------------
# h2load's summary must show every request succeeded, none errored, all 2xx.
h2load_check() {
    local what=$1 out=$2 rc=$3 n=$4
    local line codes
    line=$(grep -E '^requests:' "$out")
    codes=$(grep -E '^status codes:' "$out")
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        fail "$what: h2load failed (exit $rc): $(tail -n 3 "$out" | tr '\n' ' ')"
    elif ! echo "$line" | grep -q " $n succeeded, 0 failed, 0 errored, 0 timeout" ||
        ! echo "$codes" | grep -q "^status codes: $n 2xx"; then
        fail "$what: $line; $codes"
    else
        pass "$what: $n requests, $(awk '/^finished in/ { print $4, $5 }' "$out" | tr -d ,) 0 failed"
    fi
}
if command -v h2load >/dev/null 2>&1 && command -v nghttp >/dev/null 2>&1; then
    h2base="http://127.0.0.1:$proxy_h2_port"
    for f in small.bin big.bin; do
        if curl -sS --http2-prior-knowledge -o "$tmp/got-$f" -w '%{http_version}' "$h2base/$f" \
            >"$tmp/curl-h2-ver" 2>&1 && [ "$(cat "$tmp/curl-h2-ver")" = 2 ] &&
            cmp -s "$tmp/got-$f" "$tmp/www/$f"; then
            pass "curl --http2-prior-knowledge $f: $(wc -c <"$tmp/got-$f") bytes over HTTP/2, identical"
        else
            fail "curl --http2-prior-knowledge $f: the body differs (or curl failed: $(cat "$tmp/curl-h2-ver"))"
        fi
    done
    rm -f "$tmp"/got-*
    mkdir -p "$tmp/nghttp"
    if (cd "$tmp/nghttp" && nghttp -n -s "$h2base/small.bin" "$h2base/big.bin" >"$tmp/nghttp.log" 2>&1) &&
        nghttp "$h2base/big.bin" >"$tmp/nghttp-body" 2>>"$tmp/nghttp.log" &&
        cmp -s "$tmp/nghttp-body" "$tmp/www/big.bin" &&
        [ "$(grep -c '^[[:space:]]*[0-9].*\.bin' "$tmp/nghttp.log")" -ge 2 ]; then
        pass "nghttp small.bin + big.bin on one connection, big.bin identical"
    else
        fail "nghttp: $(tail -n 5 "$tmp/nghttp.log" | tr '\n' ' ')"
    fi
    for load in "-c 10 -m 10" "-c 100 -m 10" "-c 1 -m 100"; do
        out="$tmp/h2load.log"
        # shellcheck disable=SC2086
        h2load -n "$h2_requests" $load "$h2base/small.bin" >"$out" 2>&1
        h2load_check "h2load $load small.bin" "$out" $? "$h2_requests"
    done
    out="$tmp/h2load-h2h2.log"
    h2load -n "$((h2_requests / 4))" -c 10 -m 10 "http://127.0.0.1:$proxy_h2h2_port/small.bin" \
        >"$out" 2>&1
    h2load_check "h2load -c 10 -m 10 small.bin via proto h2 server" "$out" $? "$((h2_requests / 4))"
else
    summary+=("skip  HTTP/2 checks: h2load and nghttp (nghttp2-client) not installed")
fi

# --- the proxy survived -----------------------------------------------------------------
if ! kill -0 "$proxy_pid" 2>/dev/null; then
    fail "the proxy exited during the run"
    proxy_pid=
elif grep -q "panicked" "$tmp/proxy.log"; then
    fail "the proxy's output mentions a panic: $(grep -m1 panicked "$tmp/proxy.log")"
else
    pass "the proxy still runs, no panic in its output"
fi

echo "acceptance: $proxy -> nginx ($("$nginx_bin" -v 2>&1 | sed 's/.*: //'))"
printf '  %s\n' "${summary[@]}"
if [ "$failures" -ne 0 ]; then
    if [ -n "${KEEP:-}" ]; then
        echo "acceptance: $failures check(s) failed; logs in $tmp"
    else
        echo "acceptance: $failures check(s) failed (KEEP=1 keeps the logs); the proxy's last lines:"
        tail -n 20 "$tmp/proxy.log" | sed 's/^/  proxy: /'
    fi
    exit 1
fi
echo "acceptance: all checks passed"
exit 0
