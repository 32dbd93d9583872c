"""`opsbook awx-survey`: AWX / Automation Platform survey specs from the roles' argument specs."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("awx-survey")
@click.argument("roles", nargs=-1)
@click.option("--all", "all_roles", is_flag=True, help="Every role of the collection.")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write <role>.json files there (default: print the spec; one role only).")
@click.pass_obj
def awx_survey(app, roles: tuple[str, ...], all_roles: bool, output_dir: Path | None) -> None:
    """Print or write the AWX survey spec of ROLES (JSON the AWX API and awxkit accept).

    \b
    One question per option of the role's meta/argument_specs.yml; post it to
    /api/v2/job_templates/<id>/survey_spec/ of the job template that runs playbooks/<role>.yml.

    \b
    Examples:
      opsbook awx-survey redis_health
      opsbook awx-survey --all -o surveys/
    """
    from opsbook.app import EXIT_USAGE
    from opsbook.awx import role_survey
    from opsbook.awx import roles as collection_roles
    from opsbook.catalog import collection_root
    from opsbook.lab.base import write_atomic

    root = collection_root()
    known = collection_roles(root)
    names = known if all_roles else list(roles)
    if not names:
        app.abort("name a role or pass --all", EXIT_USAGE)
    unknown = [n for n in names if n not in known]
    if unknown:
        app.abort(f"no such role: {', '.join(unknown)} (roles: {', '.join(known)})", EXIT_USAGE)
    if output_dir is None:
        if len(names) > 1:
            app.abort("several roles need --output-dir", EXIT_USAGE)
        app.display(json.dumps(role_survey(root / "roles" / names[0]), indent=2))
        return
    for name in names:
        path = output_dir / f"{name}.json"
        write_atomic(path, json.dumps(role_survey(root / "roles" / name), indent=2) + "\n")
        app.display_info(f"wrote {path}")
