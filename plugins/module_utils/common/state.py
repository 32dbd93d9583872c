# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where opsbook keeps state between runs (incident records, deploy freezes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def default_state_dir(kind, env=None):
    """``$OPSBOOK_STATE_DIR/<kind>``, else ``$XDG_STATE_HOME/opsbook/<kind>`` (``~/.local/state``)."""
    env = os.environ if env is None else env
    if env.get("OPSBOOK_STATE_DIR"):
        return os.path.join(env["OPSBOOK_STATE_DIR"], kind)
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "opsbook", kind)
