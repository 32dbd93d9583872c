#!/usr/bin/env bash
# The collection as Galaxy ships it: build the tarball, install it into a clean collections path,
# run a playbook of FQCNs from there with no checkout on any path, then ansible-test sanity on the
# installed copy (ansible-test needs the ansible_collections/NS/NAME layout; offline flags below).
#   scripts/galaxy_check.sh                  everything (make sanity)
#   GALAXY_CHECK_SANITY=0 scripts/galaxy_check.sh    build, install and the FQCN run only
# Extra arguments go to ansible-test sanity.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
BIN=$repo/${OPSBOOK_VENV:-.venv}/bin
export PATH="$BIN:$PATH"
work=$(mktemp -d /tmp/opsbook-galaxy-XXXXXX)
trap 'rm -rf "$work"' EXIT
log() { printf '[galaxy-check] %s\n' "$*" >&2; }

version=$("$BIN/python" -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
ansible-galaxy collection build --force --output-path "$work" . >/dev/null
tarball=$work/opsbook-runbooks-$version.tar.gz
ansible-galaxy collection install --force -p "$work/collections" "$tarball" 2>&1 >/dev/null \
  | { grep -v "is not part of the configured Ansible collections paths" >&2 || true; }
installed=$work/collections/ansible_collections/opsbook/runbooks
[ -f "$installed/MANIFEST.json" ] || { log "FAIL: nothing installed from $tarball"; exit 1; }
log "installed $(basename "$tarball") into $work/collections"

# A Python that has the venv's packages (Ansible, the drivers) but not the editable checkout:
# a .pth line naming the venv's site-packages adds it as a plain path, so its own .pth files
# (_opsbook.pth puts the checkout's .collections and cli/ on sys.path) are not processed.
"$BIN/python" -m venv --without-pip "$work/venv"
py=$work/venv/bin/python
"$BIN/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
  > "$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/opsbook-deps.pth"
if "$py" -c 'import ansible_collections.opsbook' 2>/dev/null || "$py" -c 'import opsbook' 2>/dev/null; then
  log "FAIL: the checkout is importable from the clean Python"; exit 1
fi
cd "$work"
: > ansible.cfg  # empty: no configuration of the caller's reaches the run
export ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_NOCOLOR=1 \
  ANSIBLE_LOCAL_TEMP=$work/tmp ANSIBLE_HOME=$work/ansible-home
unset ANSIBLE_COLLECTIONS_PATHS ANSIBLE_ROLES_PATH

# ansible-doc names the file it documents: it must be the installed copy.
doc=$("$py" -m ansible doc opsbook.runbooks.pg_health)
grep -qF "$installed/plugins/modules/pg_health.py" <<<"$doc" \
  || { log "FAIL: ansible-doc does not document the installed copy:"; head -2 <<<"$doc" >&2; exit 1; }

# FQCNs only, from the installed copy: a module (its module_utils travel with it), a filter, a role
# (its argument_specs validated) and a playbook of the collection, against a Redis that is not there:
# a critical finding, not a failure.
mkdir inventory
cat > inventory/hosts.yml <<YAML
all:
  hosts:
    galaxy-check:
      ansible_connection: local
      ansible_python_interpreter: $py
      opsbook_redis: {host: 127.0.0.1, port: 1}
YAML
cat > fqcn.yml <<'YAML'
- name: The installed collection, by FQCN
  hosts: all
  gather_facts: false
  tasks:
    - name: Module
      opsbook.runbooks.redis_health:
        host: 127.0.0.1
        port: 1
      register: health
    - name: Module result and filter
      ansible.builtin.assert:
        that:
          - health.status == 'critical'
          - (health.findings | map(attribute='check') | first) == 'redis_reachable'
          - ('sync_queue' | opsbook.runbooks.confirmed(['sync_queue'], false)) is true
    - name: Role
      ansible.builtin.include_role:
        name: opsbook.runbooks.redis_health
      vars:
        redis_health_sample_seconds: 0.1
YAML
"$py" -m ansible playbook -i inventory fqcn.yml >"$work/fqcn.log" 2>&1 \
  || { cat "$work/fqcn.log" >&2; log "FAIL: the FQCN playbook"; exit 1; }
"$py" -m ansible playbook -i inventory opsbook.runbooks.redis_health >"$work/playbook.log" 2>&1 \
  || { cat "$work/playbook.log" >&2; log "FAIL: playbook opsbook.runbooks.redis_health"; exit 1; }
grep -q "galaxy-check *: ok=" "$work/playbook.log" || { cat "$work/playbook.log" >&2; exit 1; }
log "ok: ansible-doc, a module, a filter, a role and playbook opsbook.runbooks.redis_health ran from the install"

[ "${GALAXY_CHECK_SANITY:-1}" = 0 ] && exit 0
cd "$installed"
[ -d "$repo/tests/sanity" ] && mkdir -p tests && cp -r "$repo/tests/sanity" tests/
log "ansible-test sanity on the installed copy"
PATH="$BIN:$PATH" ansible-test sanity --python 3.11 --requirements "$@"
