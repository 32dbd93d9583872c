# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where opsbook keeps state between runs (incident records, deploy freezes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, OpsbookError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.lock import file_lock

# The lock of a state directory (run history, incident records, freezes); backup locations have their own.
STATE_LOCK_FILE = ".opsbook-state.lock"


def default_state_dir(kind, env=None):
    """``$OPSBOOK_STATE_DIR/<kind>``, else ``$XDG_STATE_HOME/opsbook/<kind>`` (``~/.local/state``)."""
    env = os.environ if env is None else env
    if env.get("OPSBOOK_STATE_DIR"):
        return os.path.join(env["OPSBOOK_STATE_DIR"], kind)
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "opsbook", kind)


def load_record(path, schema, error, what="record"):
    """The JSON record at ``path`` (a dict whose ``schema`` is ``schema``), None when there is none; ``error`` otherwise."""
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise error("cannot read the %s %s: %s" % (what, path, exc.strerror or exc))
    except ValueError as exc:
        raise error("the %s %s is not JSON: %s" % (what, path, exc))
    if not isinstance(record, dict) or record.get("schema") != schema:
        raise error("%s is not an %s record" % (path, schema))
    return record


class locked_dir(object):
    """``with locked_dir(state_dir, busy, error):`` create the directory (0700) and hold its ``flock`` (30 s) on ``STATE_LOCK_FILE``.

    ``busy``: the message of ``error`` raised when another writer holds it that long.
    """

    def __init__(self, state_dir, busy, error, wait=30):
        self.state_dir = state_dir
        self.busy, self.error, self.wait = busy, error, wait
        self.lock = None

    def __enter__(self):
        try:
            os.makedirs(self.state_dir, 0o700)
        except OSError:
            if not os.path.isdir(self.state_dir):
                raise InvalidInput("state_dir: cannot create %s" % self.state_dir)
        self.lock = file_lock(os.path.join(self.state_dir, STATE_LOCK_FILE), wait=self.wait)
        try:
            self.lock.__enter__()
        except OpsbookError:
            raise self.error(self.busy)
        return self

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)
