"""When a compose project is a log source of its own, and when only the default of compose workloads."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.log_scan import project_is_a_source


@pytest.mark.parametrize("params, pods, expected", [
    ({}, None, False),
    ({"project": "shop"}, None, True),  # the only source: every container of the project
    ({"project": "shop", "services": ["backend"]}, None, True),
    ({"project": "shop", "workloads": [{"kind": "compose", "name": "backend"}]}, None, False),  # from opsbook_docker
    ({"project": "shop", "paths": ["/var/log/app.log"]}, None, False),
    ({"project": "shop", "journal": True}, None, False),
    ({"project": "shop"}, "app=web", False),
    ({"project": "shop", "services": ["backend"], "workloads": [{"kind": "compose", "name": "worker"}]}, None, True),
])
def test_project_is_a_source(params, pods, expected):
    assert project_is_a_source(params, pods) is expected
