#!/usr/bin/env bash
# Per-crate summary of cargo-mutants runs (`make mutants`): reads DIR/<crate>/mutants.out/
# and prints caught, timeout, missed, unviable and the share of viable mutants detected
# ((caught + timeout) / (caught + timeout + missed)), as the table of docs/testing.md.
# After `--iterate`, the mutants skipped as caught before (previously_caught.txt) count as
# caught; cargo-mutants also lists there the unviable ones of the run before, so chained
# --iterate runs count those as caught too.
set -u
dir=${1:?usage: mutants-summary.sh DIR}
printf '| crate | mutants | caught | timeout | missed | unviable | detected |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for out in "$dir"/*/mutants.out; do
  [ -d "$out" ] || continue
  crate=$(basename "$(dirname "$out")")
  count() { if [ -f "$out/$1.txt" ]; then grep -c . "$out/$1.txt" || true; else echo 0; fi; }
  caught=$(( $(count caught) + $(count previously_caught) )); timeout=$(count timeout); missed=$(count missed); unviable=$(count unviable)
  total=$((caught + timeout + missed + unviable))
  viable=$((caught + timeout + missed))
  if [ "$viable" -gt 0 ]; then
    pct=$(awk -v d=$((caught + timeout)) -v v="$viable" 'BEGIN { printf "%.1f %%", 100 * d / v }')
  else
    pct='-'
  fi
  printf '| %s | %d | %d | %d | %d | %d | %s |\n' "$crate" "$total" "$caught" "$timeout" "$missed" "$unviable" "$pct"
done
