#!/bin/sh
# pip install into the image's venv (/opt/chaosbed): from the wheelhouse only
# when it holds wheels (the offline build), else from the package index.
set -eu
if ls /wheelhouse/*.whl >/dev/null 2>&1; then
    set -- --no-index --find-links=/wheelhouse "$@"
fi
exec /opt/chaosbed/bin/pip install --quiet "$@"
