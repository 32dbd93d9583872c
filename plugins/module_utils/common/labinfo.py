# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the local lab keeps its state, and how to read its endpoints.

Shared by the ``opsbook lab`` command (which writes ``lab.json``) and the
``opsbook.runbooks.lab`` lookup (which the lab inventory reads it through).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError

LAB_DIR_ENV = "OPSBOOK_LAB_DIR"
STATE_FILE = "lab.json"


def default_lab_dir():
    """``$OPSBOOK_LAB_DIR``, else ``/var/tmp/opsbook-lab-<uid>``.

    The default is outside any home directory on purpose: the lab runs
    PostgreSQL as an unprivileged user, who must be able to reach its data dir.
    """
    env = os.environ.get(LAB_DIR_ENV)
    if env:
        return os.path.abspath(os.path.expanduser(env))
    return "/var/tmp/opsbook-lab-%d" % os.getuid()


def read_state(lab_dir=None, with_secrets=False):
    """The lab's endpoints as written by ``opsbook lab up``.

    Secrets are kept in files next to the state; ``with_secrets`` adds a
    ``password`` key (read from ``password_file``) to each service that has one.
    """
    lab_dir = lab_dir or default_lab_dir()
    path = os.path.join(lab_dir, STATE_FILE)
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (IOError, OSError):
        raise OpsbookError("no lab state at %s: start the lab with 'opsbook lab up'" % path)
    except ValueError as exc:
        raise OpsbookError("lab state %s is not valid JSON: %s" % (path, exc))
    if with_secrets:
        for service in state.get("services", {}).values():
            # the service's own user, and its least-privilege principals (monitor, remediate, ...)
            for entry in [service] + list((service.get("principals") or {}).values()):
                secret = entry.get("password_file")
                if secret:
                    try:
                        with open(secret) as handle:
                            entry["password"] = handle.read().strip()
                    except (IOError, OSError):
                        raise OpsbookError("lab secret %s is missing: run 'opsbook lab reset'" % secret)
    return state
