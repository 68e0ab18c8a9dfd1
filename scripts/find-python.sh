#!/usr/bin/env bash
# Print the executable of a CPython X.Y interpreter (usage: scripts/find-python.sh 3.13), or exit 1.
# Tries `pythonX.Y` on PATH (a pyenv shim is asked with PYENV_VERSION set to each installed X.Y.*), then the
# interpreters under $PYENV_ROOT/versions (default ~/.pyenv). Prints sys.executable, so no shim is involved later.
set -uo pipefail
want="${1:?usage: find-python.sh X.Y}"
root="${PYENV_ROOT:-$HOME/.pyenv}"
check="import sys; assert '%d.%d' % sys.version_info[:2] == '$want'; print(sys.executable)"
versions=$(ls -d "$root"/versions/"$want".* 2>/dev/null | sort -V -r)
if command -v "python$want" >/dev/null 2>&1; then
  "python$want" -c "$check" 2>/dev/null && exit 0
  for dir in $versions; do
    PYENV_VERSION="$(basename "$dir")" "python$want" -c "$check" 2>/dev/null && exit 0
  done
fi
for dir in $versions; do
  "$dir/bin/python$want" -c "$check" 2>/dev/null && exit 0
done
echo "find-python.sh: no Python $want found (PATH, $root/versions)" >&2
exit 1
