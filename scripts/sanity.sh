#!/usr/bin/env bash
# ansible-test sanity on the collection as it ships: scripts/galaxy_check.sh builds the tarball,
# installs it into a scratch ansible_collections tree, runs it from there, and runs sanity there.
exec "$(dirname "$0")/galaxy_check.sh" "$@"
