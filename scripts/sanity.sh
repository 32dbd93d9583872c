#!/usr/bin/env bash
# ansible-test sanity on the collection as it ships: build the tarball, install it into a
# scratch ansible_collections tree, and run sanity there (ansible-test needs that layout).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${OPSBOOK_VENV:-.venv}/bin
export PATH="$PWD/$BIN:$PATH"
work=$(mktemp -d /tmp/opsbook-sanity-XXXXXX)
trap 'rm -rf "$work"' EXIT
ansible-galaxy collection build --force --output-path "$work" . >/dev/null
ansible-galaxy collection install --force -p "$work/collections" "$work"/opsbook-runbooks-*.tar.gz >/dev/null
cd "$work/collections/ansible_collections/opsbook/runbooks"
cp -r "$OLDPWD/tests/sanity" tests/ 2>/dev/null || true
ansible-test sanity --python 3.11 --requirements "$@"
