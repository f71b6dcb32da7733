#!/usr/bin/env bash
# make test: run make setup, then every stage, keep going past a failed stage, then print one summary with timings.
# Exit status is non-zero when any stage failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
make=${MAKE:-make}
stages=("$@")

declare -a summary
failed=0
for stage in "${stages[@]}"; do
    echo
    echo "==================== $stage ===================="
    start=${EPOCHREALTIME/./}
    "$make" --no-print-directory -C "$root" "$stage"
    rc=$?
    elapsed=$(( (${EPOCHREALTIME/./} - start) / 100000 ))
    seconds="$((elapsed / 10)).$((elapsed % 10))"
    if [[ $rc -eq 0 ]]; then status=ok; else status="FAILED (exit $rc)"; failed=1; fi
    summary+=("$(printf '  %-16s %8ss  %s' "$stage" "$seconds" "$status")")
    if [[ $stage == setup && $rc -ne 0 ]]; then
        break  # nothing else can run without the tools
    fi
done

echo
echo "==================== summary ===================="
printf '%s\n' "${summary[@]}"
if [[ $failed -ne 0 ]]; then
    echo "make test: FAILED"
    exit 1
fi
echo "make test: all stages passed"
