"""AWX survey specs from every role's meta/argument_specs.yml: valid for AWX's survey_spec API
(a JSON Schema written from AWX's validation rules), one question per option, typed by the spec."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from opsbook.awx import question, role_survey
from opsbook.cli import opsbook
from tests.helpers import REPO

SCHEMA = json.loads((REPO / "cli" / "opsbook" / "schemas" / "awx-survey.json").read_text())
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
EXPECTED_TYPE = {"int": "integer", "float": "float", "bool": "multiplechoice", "list": "textarea",
                 "dict": "textarea", "str": "text", "path": "text"}


def awx_errors(spec):
    """The checks of AWX's _validate_spec_data beyond a schema: unique variables, defaults among the choices."""
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(spec)]
    variables = [q["variable"] for q in spec.get("spec", [])]
    errors += [f"duplicated variable {v}" for v in {v for v in variables if variables.count(v) > 1}]
    for q in spec.get("spec", []):
        if q.get("type") in ("multiplechoice", "multiselect") and q.get("default"):
            errors += [f"{q['variable']}: default {d!r} not among the choices" for d in q["default"].splitlines()
                       if d not in q.get("choices", [])]
    return errors


def test_roles_found():
    assert len(ROLES) >= 27


@pytest.mark.parametrize("role", ROLES)
def test_every_role_survey_is_valid_for_awx(role):
    survey = role_survey(REPO / "roles" / role)
    assert awx_errors(survey) == []
    options = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())[
        "argument_specs"]["main"]["options"]
    assert [q["variable"] for q in survey["spec"]] == list(options)
    assert survey["name"] == f"opsbook.runbooks.{role}" and survey["description"]
    for q in survey["spec"]:
        option = options[q["variable"]] or {}
        kind = option.get("type", "str")
        if option.get("no_log"):
            assert q["type"] == "password" and q["default"] == ""
        elif option.get("choices"):
            assert q["type"] == ("multiselect" if kind == "list" else "multiplechoice")
        elif kind in EXPECTED_TYPE:
            assert q["type"] == EXPECTED_TYPE[kind], q
        if q["type"] == "textarea" and q["default"] != "":
            assert json.loads(q["default"]) == option["default"]
        if q["type"] in ("integer", "float") and option.get("default") is not None:
            assert q["default"] == option["default"]
        assert q["required"] is bool(option.get("required", False))


@pytest.mark.parametrize(("option", "expected"), [
    ({"type": "int", "default": 1000}, {"type": "integer", "default": 1000}),
    ({"type": "float", "default": 80}, {"type": "float", "default": 80.0}),
    ({"type": "float"}, {"type": "float", "default": ""}),
    ({"type": "bool", "default": False}, {"type": "multiplechoice", "choices": ["true", "false"], "default": "false"}),
    ({"type": "str", "default": "backend"}, {"type": "text", "default": "backend"}),
    ({"type": "str", "choices": ["docker", "kubernetes"], "default": "docker"},
     {"type": "multiplechoice", "choices": ["docker", "kubernetes"], "default": "docker"}),
    ({"type": "list", "elements": "str", "choices": ["postgres", "redis", "kafka"], "default": ["postgres", "redis"]},
     {"type": "multiselect", "choices": ["postgres", "redis", "kafka"], "default": "postgres\nredis"}),
    ({"type": "list", "elements": "dict", "default": [{"url": "http://x/health", "status": [200]}]},
     {"type": "textarea", "default": '[{"url": "http://x/health", "status": [200]}]'}),
    ({"type": "dict", "default": {}}, {"type": "textarea", "default": "{}"}),
    ({"type": "raw", "default": [1, 2]}, {"type": "textarea", "default": "[1, 2]"}),
    ({"type": "raw", "default": 5}, {"type": "text", "default": "5"}),
    ({"type": "str", "no_log": True, "default": "s3cret"}, {"type": "password", "default": ""}),
    ({"type": "str", "required": True}, {"type": "text", "default": "", "required": True}),
])
def test_question_types(option, expected):
    q = question("demo_option", dict(option, description=["First C(code) line.", "V(value) here."]), "demo_")
    assert {k: q[k] for k in expected} == expected
    assert q["question_name"] == "Option" and q["question_description"] == "First code line. value here."
    assert q["required"] is bool(option.get("required")) and "s3cret" not in json.dumps(q)
    assert awx_errors({"name": "n", "description": "d", "spec": [q]}) == []


@pytest.mark.parametrize("bad", [
    {"name": "n", "description": "d", "spec": []},
    {"name": "n", "spec": [{"type": "text", "question_name": "q", "variable": "v", "required": False}]},
    {"name": "n", "description": "d", "spec": [{"type": "integer", "question_name": "q", "variable": "v",
                                                "required": False, "default": "10"}]},
    {"name": "n", "description": "d", "spec": [{"type": "multiplechoice", "question_name": "q", "variable": "v",
                                                "required": False, "default": "a"}]},
    {"name": "n", "description": "d", "spec": [{"type": "multiplechoice", "question_name": "q", "variable": "v",
                                                "required": False, "choices": ["a"], "default": "b"}]},
    {"name": "n", "description": "d", "spec": [{"type": "boolean", "question_name": "q", "variable": "v",
                                                "required": False}]},
    {"name": "n", "description": "d", "spec": [{"type": "text", "question_name": "q", "variable": "v", "required": "no"}]},
    {"name": "n", "description": "d", "spec": [{"type": "text", "question_name": "q", "variable": "v", "required": False},
                                               {"type": "text", "question_name": "r", "variable": "v", "required": False}]},
])
def test_what_awx_refuses_is_refused(bad):
    assert awx_errors(bad)


def test_cli_writes_every_role(tmp_path):
    result = CliRunner().invoke(opsbook, ["awx-survey", "--all", "-o", str(tmp_path / "surveys")])
    assert result.exit_code == 0, result.output
    written = sorted(p.stem for p in (tmp_path / "surveys").glob("*.json"))
    assert written == ROLES
    assert not list((tmp_path / "surveys").glob(".*"))  # no temp file left behind
    for role in written:
        assert awx_errors(json.loads(Path(tmp_path / "surveys" / f"{role}.json").read_text())) == []


def test_cli_prints_one_role():
    result = CliRunner().invoke(opsbook, ["awx-survey", "redis_health"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == role_survey(REPO / "roles" / "redis_health")


@pytest.mark.parametrize(("args", "message"), [
    (["awx-survey", "nope"], "no such role: nope"),
    (["awx-survey"], "name a role or pass --all"),
    (["awx-survey", "redis_health", "backup"], "several roles need --output-dir"),
])
def test_cli_usage_errors(args, message):
    result = CliRunner().invoke(opsbook, args)
    assert result.exit_code == 64 and message in result.output
