"""`opsbook list`: the scenario catalogue."""

from __future__ import annotations

import json

import click


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
@click.option("--all", "show_all", is_flag=True, help="Include planned scenarios that are not runnable yet.")
@click.pass_obj
def list_scenarios(app, as_json: bool, show_all: bool) -> None:
    """List the scenarios `opsbook run` can run, with the runbook sections they automate."""
    from opsbook.catalog import load_catalog

    catalog = load_catalog()
    shown = [s for s in catalog.values() if s.available or show_all]
    if as_json:
        app.display(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "title": s.title,
                        "available": s.available,
                        "read_only": s.read_only,
                        "seeds": s.seeds,
                        "alerts": s.alerts,
                    }
                    for s in shown
                ],
                indent=2,
            )
        )
        return
    width = max(len(s.name) for s in shown)
    for s in shown:
        state = "" if s.available else app.style(" (planned)", dim=True)
        app.display(f"{s.name.ljust(width)}  {s.title}{state}")
        app.display(f"{''.ljust(width)}  seeds: {'; '.join(s.seeds)}")
    hidden = len(catalog) - len(shown)
    if hidden:
        app.display_info(f"\n{hidden} more scenario(s) are planned; `opsbook list --all` shows them.")
