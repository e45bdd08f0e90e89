#!/usr/bin/env bash
# Prints, after `cargo test`, what the differential tests could not compare with upstream
# haproxy: each test that ran without the reference left a line in the notes directory
# (tests/common/reference.rs). Prints nothing when every test had its reference.
set -u
dir=${1:?usage: test-summary.sh NOTES_DIR}
shopt -s nullglob
notes=("$dir"/*.txt)
[ ${#notes[@]} -gt 0 ] || exit 0
bar=$(printf '%.0s=' {1..78})
echo
echo "$bar"
echo "NOTE: upstream haproxy 2.6 was not found: these differential cases were checked on"
echo "haproxy-rs only, against their recorded expected outcomes (not against upstream):"
cat "${notes[@]}" | sed 's/^/  /'
echo "CI sets HRS_REQUIRE_UPSTREAM=1, under which a missing reference fails these tests."
echo "$bar"
