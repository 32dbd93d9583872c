# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident's messages and post-mortem, rendered from Jinja templates (sandboxed).

The collection ships ETL's communication templates (declaration, update, resolution) and ConectCRM's
post-mortem template in ``playbooks/templates/incident/``; an inventory points ``template_dir`` at its
own copies, and ``templates`` overrides one template's text inline.  A template that names a variable
the context does not have fails with a message naming the template (StrictUndefined).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, MissingDependency

try:
    from jinja2 import StrictUndefined, TemplateError
    from jinja2.sandbox import SandboxedEnvironment
    HAS_JINJA2 = True
    JINJA2_ERROR = None
except ImportError as exc:  # pragma: no cover - jinja2 comes with ansible-core
    HAS_JINJA2 = False
    JINJA2_ERROR = str(exc)

FILES = {"declaration": "declaration.txt.j2", "update": "update.txt.j2", "resolution": "resolution.txt.j2",
         "postmortem": "postmortem.md.j2"}
FOR_STATE = {"declared": "declaration", "updated": "update", "resolved": "resolution"}


def load_templates(template_path, inline=None):
    """``{name: source}`` for every template: ``inline`` first, else the first directory of ``template_path`` with the file."""
    inline = dict(inline or {})
    unknown = sorted(set(inline) - set(FILES))
    if unknown:
        raise InvalidInput("templates: unknown template(s) %s (expected %s)" % (", ".join(unknown), ", ".join(sorted(FILES))))
    sources = {}
    for name, filename in FILES.items():
        if inline.get(name):
            sources[name] = inline[name]
            continue
        for directory in template_path or []:
            path = os.path.join(os.path.expanduser(directory), filename)
            if os.path.isfile(path):
                with open(path) as handle:
                    sources[name] = handle.read()
                break
        else:
            raise InvalidInput("template_path: no %s in %s (set template_path or templates.%s)" % (
                filename, ", ".join(template_path or []) or "(empty)", name))
    return sources


def _hhmm(value):
    """``10:30`` of an ISO time (the post-mortem's timeline)."""
    text = str(value or "")
    return text[11:16] if len(text) >= 16 else text


def _minutes(value):
    """``15 minutos`` / ``1 h 5 min`` of a number of minutes."""
    if value is None:
        return "-"
    value = float(value)
    if value < 60:
        return ("%.1f" % value).rstrip("0").rstrip(".") + " min"
    return "%d h %d min" % (value // 60, round(value % 60))


def render(source, context, name):
    if not HAS_JINJA2:
        raise MissingDependency("jinja2", JINJA2_ERROR)
    env = SandboxedEnvironment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["hhmm"] = _hhmm
    env.filters["minutes"] = _minutes
    try:
        return env.from_string(source).render(**context)
    except TemplateError as exc:
        raise InvalidInput("templates.%s: %s" % (name, exc))
