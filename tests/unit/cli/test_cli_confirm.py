"""--confirm TARGET / --yes: usage rules (the runs themselves are in tests/integration)."""

import pytest

from opsbook.cli import main


@pytest.mark.parametrize("args", [["--confirm", "sync_queue"], ["--yes"], ["-C", "--yes"]])
def test_confirm_without_remediate_is_a_usage_error(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "queue-backlog", *args])
    assert exc.value.code == 64
    assert "--confirm and --yes confirm remediation steps: add --remediate" in capsys.readouterr().err


def test_confirm_and_yes_reach_the_playbook_as_extra_vars(monkeypatch):
    from opsbook import runner

    seen = {}

    def fake_run_playbook(scenario, playbook, paths, variables, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(runner, "run_playbook", fake_run_playbook)
    with pytest.raises(SystemExit):
        main(["run", "queue-backlog", "--remediate", "--confirm", "sync_queue", "--confirm", "dlq", "--yes"])
    assert (seen["confirm"], seen["confirm_all"]) == (("sync_queue", "dlq"), True)
