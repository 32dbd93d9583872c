"""slo: freezes from the SLO findings, the freeze records (atomic, idempotent) and the deploy's gate, the ETL SLA SQL."""

import json
import os

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.state import default_state_dir
from ansible_collections.opsbook.runbooks.plugins.module_utils.slo import budget, etl_sla, freeze

SLO = {"name": "conectcrm", "objective": 99.9, "window": "30d"}


def result(left_status, left, sli=99.5, item=SLO):
    findings = [{"check": "prometheus_reachable", "status": "ok", "value": None},
                {"check": "slo_sli", "status": "critical" if sli < 99.9 else "ok", "value": sli},
                {"check": "slo_error_budget_left", "status": left_status, "value": left},
                {"check": "slo_burn_rate_1h_5m", "status": "ok", "value": 2.0}]
    return {"item": item, "findings": findings}


def test_spent_budget_freezes_recovered_lifts_unmeasured_does_nothing():
    plan = budget.freeze_plan([result("critical", -400.0), result("ok", 12.5, 99.99, dict(SLO, name="b")),
                               {"item": dict(SLO, name="c"), "findings": []}, {"item": SLO, "skipped": True}])
    assert [(p["name"], p["state"]) for p in plan] == [("slo-conectcrm", "present"), ("slo-b", "absent")]
    assert plan[0]["reason"] == ("error budget of conectcrm spent: availability 99.5 % over 30d (SLO 99.9 %), "
                                 "-400 % of the budget left")
    assert plan[0]["details"] == {"slo": "conectcrm", "kind": "availability", "objective_pct": 99.9, "window": "30d",
                                  "sli_pct": 99.5, "budget_left_pct": -400.0, "burn_rates": {"slo_burn_rate_1h_5m": 2.0}}


def test_freeze_off_per_slo_and_explicit_lift():
    assert budget.freeze_plan([result("critical", -1.0, item=dict(SLO, freeze=False))]) == []
    plan = budget.freeze_plan([result("critical", -1.0)], lift=["slo-conectcrm"])
    assert [(p["name"], p["state"]) for p in plan] == [("slo-conectcrm", "absent")]
    with pytest.raises(InvalidInput, match="loop results"):
        budget.freeze_plan([{"findings": []}])


def test_put_is_atomic_and_idempotent_lift_and_check_mode(tmp_path):
    state_dir = str(tmp_path / "freezes")
    planned = freeze.put(state_dir, "slo-a", "budget spent", check_mode=True)
    assert planned["changed"] and planned["actions"][0]["dry_run"] and not os.path.exists(state_dir)
    first = freeze.put(state_dir, "slo-a", "budget spent", {"budget_left_pct": -3.0}, now=0)
    assert first["changed"] and first["findings"][0]["state"] == "frozen" and first["findings"][0]["status"] == "critical"
    assert sorted(os.listdir(state_dir)) == [".opsbook-state.lock", "slo-a.json"]  # no temporary file left
    record = json.loads((tmp_path / "freezes" / "slo-a.json").read_text())
    assert record == {"schema": "opsbook.freeze/v1", "name": "slo-a", "reason": "budget spent",
                      "details": {"budget_left_pct": -3.0}, "since": "1970-01-01T00:00:00Z"}
    again = freeze.put(state_dir, "slo-a", "budget spent again")
    assert not again["changed"] and again["freeze"]["reason"] == "budget spent" and again["actions"] == []
    assert freeze.lift(state_dir, "slo-a", "recovered", check_mode=True)["changed"]
    assert os.path.exists(os.path.join(state_dir, "slo-a.json"))
    lifted = freeze.lift(state_dir, "slo-a", "recovered")
    assert lifted["changed"] and lifted["findings"][0]["state"] == "lifted" and freeze.standing(state_dir) == []
    assert not freeze.lift(state_dir, "slo-a", "recovered")["changed"]


def test_gate_refuses_unless_confirmed_by_name(tmp_path):
    state_dir = str(tmp_path)
    assert freeze.gate(state_dir)["allowed"] and freeze.gate(str(tmp_path / "none"))["freezes"] == []
    freeze.put(state_dir, "slo-a", "budget spent", now=0)
    freeze.put(state_dir, "slo-b", "budget spent", now=0)
    refused = freeze.gate(state_dir, ["slo-a"])
    assert not refused["allowed"]
    assert [(f["target"], f["status"], f["state"]) for f in refused["findings"]] == [
        ("slo-a", "ok", "confirmed"), ("slo-b", "critical", "frozen")]
    assert refused["findings"][1]["message"] == (
        "deploy refused, deploys frozen by slo-b since 1970-01-01T00:00:00Z: budget spent; "
        "pass --remediate --confirm slo-b to deploy anyway")
    assert freeze.gate(state_dir, ["slo-a", "slo-b"])["allowed"]


@pytest.mark.parametrize("name", ["", "../x", "a b", "-x"])
def test_bad_freeze_names(tmp_path, name):
    with pytest.raises(InvalidInput, match="a freeze name is"):
        freeze.put(str(tmp_path), name, "r")


def test_a_foreign_file_is_an_error(tmp_path):
    (tmp_path / "x.json").write_text('{"schema": "other"}')
    with pytest.raises(freeze.FreezeError, match="is not an opsbook.freeze/v1 record"):
        freeze.gate(str(tmp_path))


def test_state_dirs():
    assert default_state_dir("freezes", {"OPSBOOK_STATE_DIR": "/s"}) == "/s/freezes"
    assert freeze.default_state_dir({"XDG_STATE_HOME": "/x"}) == "/x/opsbook/freezes"


def test_etl_sla_checks_the_seed_numbers():
    success, processing = etl_sla.etl_sla_checks()
    assert (success["warn"], success["crit"], success["direction"], success["column"]) == (98, 95, "below", "success_rate_percent")
    assert "INTERVAL '24 hours'" in success["sql"] and "status = 'loaded'" in success["sql"]
    assert (processing["crit"], processing["column"]) == (95, "within_sla_percent")
    assert "<= 120.0" in processing["sql"]
    with pytest.raises(InvalidInput, match="window_hours must be a positive number"):
        etl_sla.etl_sla_checks(0)
