# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lab
short_description: Endpoints and credentials of the local opsbook lab
version_added: "0.1.0"
description:
  - Reads the state written by C(opsbook lab up) and returns the connection
    details of one lab service (C(postgres), C(redis), C(kafka), ...).
  - Passwords are read from the lab's secret files; mark tasks using them C(no_log)
    or pass them only to options that are C(no_log).
options:
  _terms:
    description: Names of lab services.
    required: true
    type: list
    elements: str
  lab_dir:
    description: The lab state directory.
    type: path
    env:
      - name: OPSBOOK_LAB_DIR
    default: /var/tmp/opsbook-lab-<uid>
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: Connect to the lab PostgreSQL
  opsbook.runbooks.pg_health:
    host: "{{ lookup('opsbook.runbooks.lab', 'postgres').host }}"
    port: "{{ lookup('opsbook.runbooks.lab', 'postgres').port }}"
"""

RETURN = r"""
_raw:
  description: One dict per service named, with host, port, user, database, password ...
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        lab_dir = self.get_option("lab_dir")
        if lab_dir and "<uid>" in lab_dir:
            lab_dir = None
        try:
            services = read_state(lab_dir, with_secrets=True).get("services", {})
        except OpsbookError as exc:
            raise AnsibleLookupError(str(exc))
        result = []
        for term in terms:
            if term not in services:
                raise AnsibleLookupError(
                    "the lab has no service %r (it has: %s)" % (term, ", ".join(sorted(services)) or "none")
                )
            result.append(services[term])
        return result
