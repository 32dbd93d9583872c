"""AWX / Automation Platform survey specs from the roles' meta/argument_specs.yml.

A survey spec is what AWX's API takes at /api/v2/job_templates/<id>/survey_spec/ (and awxkit's
``job_template.add_survey(spec=...)``): ``{name, description, spec: [question, ...]}``. One
question per role option, typed from the argument spec:

=================================  =============================================================
argument spec                      survey question
=================================  =============================================================
``no_log: true``                   ``password`` (no default: a secret never goes into a spec)
``choices`` (scalar)               ``multiplechoice``, the choices as strings
``type: list`` with choices        ``multiselect`` (the choices of its elements)
``type: bool``                     ``multiplechoice`` of ``true`` / ``false``
``type: int``                      ``integer``
``type: float``                    ``float``
``type: list`` / ``dict``          ``textarea``, the default as JSON
``str``, ``path``, ``raw``...      ``text`` (``raw`` with a list/dict default: ``textarea``)
=================================  =============================================================
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

# Ansible's documentation markup (C(x), V(x), O(x), P(x#module), I(x)...) -> its text.
_MARKUP = re.compile(r"\b[A-Z]\(([^()]*)\)")


def _text(value) -> str:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return _MARKUP.sub(lambda m: m.group(1).split("#")[0], str(value or "")).strip()


def _choice(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def question(variable: str, option: dict, prefix: str = "") -> dict:
    """The survey question for one option of a role's argument spec."""
    kind = option.get("type", "str")
    default = option.get("default")
    choices = option.get("choices")  # on a list, the choices of its elements
    q = {
        "question_name": variable.removeprefix(prefix).replace("_", " ").capitalize() if prefix else variable,
        "question_description": _text(option.get("description")),
        "variable": variable,
        "required": bool(option.get("required", False)),
    }
    if option.get("no_log"):
        q.update(type="password", default="")
    elif kind == "list" and choices:
        q.update(type="multiselect", choices=[_choice(c) for c in choices],
                 default="\n".join(_choice(c) for c in default or []))
    elif choices:
        q.update(type="multiplechoice", choices=[_choice(c) for c in choices],
                 default="" if default is None else _choice(default))
    elif kind == "bool":
        q.update(type="multiplechoice", choices=["true", "false"], default="" if default is None else _choice(default))
    elif kind == "int":
        q.update(type="integer", default="" if default is None else int(default))
    elif kind == "float":
        q.update(type="float", default="" if default is None else float(default))
    elif kind in ("list", "dict") or (kind == "raw" and isinstance(default, (list, dict))):
        q.update(type="textarea", default="" if default is None else json.dumps(default))
    else:
        q.update(type="text", default="" if default is None else str(default))
    return q


def role_survey(role_dir: Path, entry_point: str = "main") -> dict:
    """The survey spec of a role's entry point, one question per option, in the spec's order."""
    specs = yaml.safe_load((role_dir / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    if entry_point not in specs:
        raise KeyError(f"role {role_dir.name} has no entry point {entry_point!r} (has: {', '.join(specs)})")
    spec = specs[entry_point]
    options = spec.get("options") or {}
    if not options:
        raise ValueError(f"role {role_dir.name} has no options: AWX refuses a survey without questions")
    prefix = role_dir.name + "_"
    return {
        "name": f"opsbook.runbooks.{role_dir.name}",
        "description": _text(spec.get("short_description")),
        "spec": [question(name, option or {}, prefix) for name, option in options.items()],
    }


def roles(collection: Path) -> list[str]:
    return sorted(p.name for p in (collection / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
