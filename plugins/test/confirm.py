# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``confirmed`` filter as a test, to pick the confirmed targets: ``dbs | select('opsbook.runbooks.confirmed', ...)``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.filter.confirm import confirmed


class TestModule(object):
    def tests(self):
        return {"confirmed": confirmed}
