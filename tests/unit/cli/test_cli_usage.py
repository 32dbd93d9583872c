"""The CLI's usage errors: exit 64 with a one-line message naming what was wrong."""

import pytest
from click.testing import CliRunner

from opsbook.cli import opsbook
from opsbook.commands.run import parse_extra_vars


def invoke(*args):
    import click

    runner = CliRunner()
    return runner.invoke(opsbook, list(args), standalone_mode=True, catch_exceptions=False)


@pytest.mark.parametrize(
    "raw, expected",
    [
        # as ansible-playbook keeps them: strings (010 is not the octal 8, true not a boolean)
        (("a=1",), {"a": "1"}),
        (("a=010",), {"a": "010"}),
        (("a=x", "b=true"), {"a": "x", "b": "true"}),
        (("url=http://h:1/x?a=b",), {"url": "http://h:1/x?a=b"}),
        (('{"k": [1, 2]}',), {"k": [1, 2]}),
        (("empty=",), {"empty": ""}),
    ],
)
def test_parse_extra_vars(raw, expected):
    assert parse_extra_vars(raw) == expected


@pytest.mark.parametrize("raw, message", [(("novalue",), "expected KEY=VALUE"), (("1bad=2",), "not a valid variable name")])
def test_parse_extra_vars_rejects(raw, message):
    import click

    with pytest.raises(click.BadParameter, match=message):
        parse_extra_vars(raw)


def test_main_exit_codes(capsys):
    from opsbook.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "no-such-scenario"])
    assert exc.value.code == 64
    assert "unknown scenario 'no-such-scenario'" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exc:
        main(["run", "health-check", "-i", "/nonexistent/inventory"])
    assert exc.value.code == 64
    assert "/nonexistent/inventory does not exist" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exc:
        main(["run", "health-check", "--remediate"])
    assert exc.value.code == 64
    assert "read-only" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 64


def test_list_shows_health_check():
    result = invoke("list")
    assert result.exit_code == 0
    assert result.output.startswith("health-check")
