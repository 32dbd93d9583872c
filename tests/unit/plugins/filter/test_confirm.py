import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.filter.confirm import FilterModule

F = FilterModule().filters()


@pytest.mark.parametrize("target, confirm, confirm_all, expected", [
    ("sync_queue", ["sync_queue"], False, True),
    ("sync_queue", [], False, False),
    ("sync_queue", None, False, False),
    ("sync_queue", "sync_queue", False, True),  # -e opsbook_confirm=sync_queue: a string is one target
    ("sync_queue", ["sync"], False, False),  # exact, never a prefix
    ("sync_queue", ["SYNC_QUEUE"], False, False),
    ("sync_queue", [], True, True),
    ("sync_queue", [], "true", True),
    ("sync_queue", [], "no", False),
    ("", [""], True, False),  # an empty target is never confirmed
    (["production/backend", "production/worker"], ["production/backend"], False, False),
    (["production/backend", "production/worker"], ["production/worker", "production/backend"], False, True),
    ([], [], True, False),
])
def test_confirmed(target, confirm, confirm_all, expected):
    assert F["confirmed"](target, confirm, confirm_all) is expected


def test_confirmed_rejects_bad_input():
    with pytest.raises(AnsibleFilterError, match="confirmed: confirm: expected strings, got int 3"):
        F["confirmed"]("db3", [3])
    with pytest.raises(AnsibleFilterError, match="confirm_all must be a boolean"):
        F["confirmed"]("db3", [], "maybe")
    with pytest.raises(AnsibleFilterError, match="the target: expected a string or a list"):
        F["confirmed"]({"name": "x"}, [])


def test_refusal_names_the_exact_option():
    finding = F["not_confirmed"]("sync_queue", "queue_purge", "purge queue sync_queue")
    assert finding == {
        "check": "queue_purge", "status": "warning", "value": None, "threshold": None, "unit": None,
        "state": "not_confirmed", "target": "sync_queue",
        "message": "not confirmed, not run: purge queue sync_queue; pass --confirm sync_queue to allow it "
                   "(or --yes for every target)",
    }


def test_refusal_quotes_a_target_the_shell_would_split():
    finding = F["not_confirmed"]("my queue", "queue_purge", "purge queue my queue", True)
    assert finding["message"] == "check mode: pass --confirm 'my queue' to allow: purge queue my queue"
    assert F["not_confirmed"]("production/backend", "c", "stop it")["message"].endswith(
        "pass --confirm production/backend to allow it (or --yes for every target)")


def test_refusal_needs_a_target():
    with pytest.raises(AnsibleFilterError, match="not_confirmed: the target must be a non-empty string"):
        F["not_confirmed"]("", "queue_purge", "purge")


def test_confirmation_findings_refuse_and_plan():
    targets = {"ml_bling_sync": "replace database ml_bling_sync", "production/backend": "scale production/backend to zero"}
    refused = F["confirmation_findings"](targets, "recovery_confirmation", ["ml_bling_sync"], False)
    assert [(f["target"], f["status"], f["state"]) for f in refused] == [("production/backend", "warning", "not_confirmed")]
    assert F["confirmation_findings"](targets, "recovery_confirmation", [], True) == []
    plan = F["confirmation_findings"](targets, "recovery_confirmation", ["production/backend"], False, True)
    assert [(f["target"], f["status"], f["state"], f["message"]) for f in plan] == [
        ("ml_bling_sync", "warning", "not_confirmed",
         "check mode: pass --confirm ml_bling_sync to allow: replace database ml_bling_sync"),
        ("production/backend", "ok", "confirmed",
         "check mode: confirmed (--confirm production/backend): would scale production/backend to zero"),
    ]
    listed = F["confirmation_findings"]([{"target": "db0", "allows": "overwrite keys in db0"}], "c", [], False, True)
    assert [f["target"] for f in listed] == ["db0"]


def test_confirmation_findings_bad_input():
    with pytest.raises(AnsibleFilterError, match="expected a dict of target: allows, got str"):
        F["confirmation_findings"]("db0", "c")
    with pytest.raises(AnsibleFilterError, match=r"expected \{target, allows\} items"):
        F["confirmation_findings"](["db0"], "c")


def test_the_test_plugin_selects_the_confirmed_targets():
    from ansible_collections.opsbook.runbooks.plugins.test.confirm import TestModule

    test = TestModule().tests()["confirmed"]
    assert [t for t in ["a", "b", "c"] if test(t, ["c", "a"], False)] == ["a", "c"]
    assert [t for t in ["a", "b"] if test(t, [], True)] == ["a", "b"]
