#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: etl_api
short_description: Check the ETL service's API and ask it to reprocess files or resolve transient DLQ entries
version_added: "0.1.0"
description:
  - The ETL runbook's API calls. V(health) is C(GET /health) and becomes a finding.
    V(reprocess) is C(POST /files/<id>/reprocess) for each of O(file_ids).
    V(resolve_transient) is C(POST /dlq/resolve-transient).
  - Each call is recorded as an action C({action, target, changed, dry_run, detail}); a failed
    call is also a V(critical) finding, so the run goes on and the report shows it.
options:
  action:
    description: What to do.
    type: str
    choices: [health, reprocess, resolve_transient]
    default: health
  api_url:
    description: Base URL of the ETL API (C(${API_URL}) in the runbook).
    type: str
    required: true
  api_token:
    description: Bearer token sent as C(Authorization). Never logged.
    type: str
  file_ids:
    description: Files to reprocess with O(action=reprocess).
    type: list
    elements: str
  max_files:
    description: Refuse to reprocess more files than this in one run.
    type: int
    default: 50
  timeout:
    description: Seconds each HTTP request may take.
    type: float
    default: 10
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: In check mode V(health) runs (it is read-only); the other actions only report the calls they would make.
notes:
  - Supports check_mode.
seealso:
  - module: opsbook.runbooks.sql_checks
author:
  - opsbook contributors (@opsbook)
"""

EXAMPLES = r"""
- name: ETL API health
  opsbook.runbooks.etl_api:
    api_url: https://etl.internal

- name: Reprocess the files waiting for more than an hour
  opsbook.runbooks.etl_api:
    action: reprocess
    api_url: https://etl.internal
    api_token: "{{ vault_etl_api_token }}"
    file_ids: [101, 102]
"""

RETURN = r"""
findings:
  description: The health finding, or one finding when API calls failed.
  returned: always
  type: list
  elements: dict
  sample: [{check: etl_api_health, status: ok, value: 200, threshold: null, unit: null, message: ETL API answered 200, target: "http://etl/health"}]
actions:
  description: One record per API call made (or that would be made in check mode).
  returned: for reprocess and resolve_transient
  type: list
  elements: dict
  sample: [{action: reprocess_file, target: "http://etl/files/101/reprocess", changed: true, dry_run: false, detail: "HTTP 202: queued"}]
http_status:
  description: HTTP status of C(/health) (null when it could not be reached).
  returned: for health
  type: int
  sample: 200
health:
  description: Body of C(/health) (parsed JSON when it is JSON).
  returned: for health
  type: raw
  sample: {status: ok}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.opsbook.runbooks.plugins.module_utils.net import etl_api
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.runner import run_action


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=list(etl_api.ACTIONS), default="health"),
            api_url=dict(type="str", required=True),
            api_token=dict(type="str", no_log=True),
            file_ids=dict(type="list", elements="str"),
            max_files=dict(type="int", default=50),
            timeout=dict(type="float", default=10),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def request(url, **kwargs):
        return open_url(url, validate_certs=params["validate_certs"], follow_redirects="safe", **kwargs)

    run_action(module, lambda: etl_api.run(request, params, module.check_mode))


if __name__ == "__main__":
    main()
