#!/usr/bin/env bash
# The floors in pyproject.toml are true: install the lowest version each runtime
# dependency allows (its ">=" floor, exactly) into a throwaway venv, the dev
# tools at whatever version resolves with them, and run the fast tests there.
#
#   .ci/min-versions.sh                          # the whole fast suite
#   .ci/min-versions.sh tests/services/common    # or the tests you name
#
# A script, not a test: building the venv takes a minute and needs the package
# index, which the ordinary test run must not. Run it when a floor or a use of
# a dependency's API changes (e.g. tenacity's wait_exponential_jitter(multiplier=)
# arrived in 9.2.1; older releases take initial=).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" - >"$work/floors.txt" <<'PY'
import re
import tomllib

with open("pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
for dep in deps:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([^,;\s]+)", dep)
    if m is None:
        raise SystemExit(f"pyproject.toml: dependency {dep!r} declares no '>=' floor")
    print(f"{m[1]}=={m[2]}")
PY
echo "floors:" $(cat "$work/floors.txt")

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install -q -c "$work/floors.txt" -e '.[dev]'
"$work/venv/bin/pip" list 2>/dev/null | grep -iE "^($(cut -d= -f1 "$work/floors.txt" | sed 's/[-_]/[-_]/g' | paste -sd'|')) "
if [ $# -eq 0 ]; then
    set -- -m "not e2e and not docker"
fi
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
