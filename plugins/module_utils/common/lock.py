# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exclusive ``flock`` on a file: backup locations, state directories, remediating runs.

The lock is held on an open file, so the kernel releases it when the holder exits, however it
exits (a crash, SIGKILL): there is no stale lock to clean up.  The file itself stays; its content
says who holds it (``holder``: a dict written as JSON when the lock is taken), so a refused
writer can name the other one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError


class Locked(OpsbookError):
    """Another process holds the lock (``holder``: what it wrote in the lock file, a dict)."""

    def __init__(self, message, holder=None):
        super(Locked, self).__init__(message)
        self.holder = holder or {}


def read_holder(path):
    """What the holder of the lock at ``path`` wrote (``{pid, ...}``), ``{}`` when nothing readable."""
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except (IOError, OSError):
        return {}
    if not text:
        return {}
    try:
        holder = json.loads(text)
    except ValueError:
        holder = {"pid": text}  # an older holder wrote its pid alone
    return holder if isinstance(holder, dict) else {"pid": holder}


class file_lock(object):
    """``with file_lock(path, wait=30, holder={...}):`` the exclusive ``flock`` of ``path``.

    Waits up to ``wait`` seconds (0: do not wait), then raises ``error`` (a :class:`Locked`
    subclass, or any exception taking a message) with ``busy(holder, waited)``'s text, or a plain
    message naming the file.  ``holder`` (default ``{pid}``) is written into the file once held.
    """

    def __init__(self, path, wait=0.0, poll=0.2, holder=None, busy=None, error=Locked):
        self.path = path
        self.wait = max(0.0, float(wait or 0))
        self.poll = poll
        self.holder = dict(holder or {})
        self.busy = busy
        self.error = error
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.time() + self.wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(self.fd)
                    self.fd = None
                    raise
                if time.time() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    self._refuse()
                time.sleep(self.poll)
        holder = dict(self.holder)
        holder.setdefault("pid", os.getpid())
        os.ftruncate(self.fd, 0)
        os.write(self.fd, (json.dumps(holder, sort_keys=True) + "\n").encode())
        return self

    def _refuse(self):
        holder = read_holder(self.path)
        if self.busy is not None:
            message = self.busy(holder, self.wait)
        else:
            message = "%s is locked%s (waited %ss)" % (
                self.path, " by pid %s" % holder["pid"] if holder.get("pid") else "", int(self.wait))
        if isinstance(self.error, type) and issubclass(self.error, Locked):
            raise self.error(message, holder)
        raise self.error(message)

    def __exit__(self, *exc):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False
