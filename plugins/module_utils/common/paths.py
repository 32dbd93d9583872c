# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths built from names that came from outside (inventories, manifests, archives).

:func:`join_inside` resolves ``base/name`` (symbolic links included) and refuses it, naming the
option, when it leaves ``base`` (``../``, an absolute name, a link pointing out) or when the
name holds a NUL byte; :func:`within` compares two resolved paths.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


def within(path, root):
    """Whether the resolved ``path`` is ``root`` or below it."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def join_inside(base, name, option):
    """The resolved ``base/name``, strictly below the resolved ``base``; else InvalidInput naming ``option``."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise InvalidInput("%s: %r is not a file name" % (option, name))
    root = os.path.realpath(base)
    full = os.path.realpath(os.path.join(root, name))
    if full == root or not within(full, root):
        shown = name if len(name) <= 200 else name[:200] + "... (%d characters)" % len(name)
        raise InvalidInput("%s: %r resolves outside %s (refused)" % (option, shown, root))
    return full
