#!/usr/bin/env bash
# Regenerate results/baselines/: the shipped scenarios' summaries that `.ci/run` compares a fresh
# run against with `evsim compare` (rules in results/baselines/metrics.yaml). Run it after an
# intentional change of a model's results, review `git diff results/baselines`, and commit.
#   scripts/update-baselines.sh            # all baselines
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
keep() { # keep: DIR NAME -- copy summary.json (+ manifest.json) of a run or comparison folder
  local src=$1 dst=results/baselines/$2
  rm -rf "$dst"
  mkdir -p "$dst"
  [ -f "$src/manifest.json" ] && cp "$src/manifest.json" "$dst/"
  if [ -f "$src/summary.json" ]; then cp "$src/summary.json" "$dst/"; fi
  for d in "$src"/*/; do
    [ -f "$d/summary.json" ] || continue
    mkdir -p "$dst/$(basename "$d")"
    cp "$d/summary.json" "$d/manifest.json" "$dst/$(basename "$d")/"
  done
}
node bin/evsim.js run --quiet --out "$tmp/monaco"
keep "$tmp/monaco" monaco
node bin/evsim.js run scenarios/validation/mmc.yaml --quiet --out "$tmp/mmc"
keep "$tmp/mmc" mmc
echo "baselines written under results/baselines/"
