# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions raised by opsbook's module_utils.

Helpers raise these; only a module's ``main()`` turns them into ``fail_json``
(or, for diagnostics, into a finding).  Messages must never carry secrets: use
:func:`scrub` on any text that came from a driver.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


class OpsbookError(Exception):
    """Base class of every error opsbook raises on purpose."""


class MissingDependency(OpsbookError):
    """A Python library the module needs is not installed on the target."""

    def __init__(self, library, error=None):
        msg = "the Python library '%s' is required on the host that runs this module" % library
        if error:
            msg += " (%s)" % error
        super(MissingDependency, self).__init__(msg)


class InvalidInput(OpsbookError):
    """An option's value is wrong; the message names the option."""


class ServiceUnreachable(OpsbookError):
    """A service could not be connected to within its timeout."""


class ServiceError(OpsbookError):
    """A service answered, but with an error."""


class PermissionDenied(ServiceError):
    """The service refused the operation to this principal (SQLSTATE 42501, Redis NOPERM, HTTP 403).

    ``right`` names what the principal lacks (docs/permissions.md), for the finding's message.
    """

    def __init__(self, message, right=None):
        super(PermissionDenied, self).__init__(message if not right else "%s (needs %s)" % (message, right))
        self.right = right


_SECRET_PATTERNS = [
    re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I),
    re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)"),
    re.compile(r"(\b(?:sasl\.password|ssl\.key\.password|requirepass)\s*[=:]?\s*)(\S+)", re.I),
    re.compile(r"(\bAUTH\s+)(\S+)"),
]


def scrub(text, secrets=()):
    """Remove secret values from ``text``: the given secrets, and password=... fragments."""
    if text is None:
        return text
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), "********")
    text = _SECRET_PATTERNS[0].sub(r"\1********", text)
    text = _SECRET_PATTERNS[1].sub(r"\1********\3", text)
    text = _SECRET_PATTERNS[2].sub(r"\1********", text)
    text = _SECRET_PATTERNS[3].sub(r"\1********", text)
    return text
