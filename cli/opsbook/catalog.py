"""Where the collection lives, and its scenario catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


def collection_root() -> Path:
    """The opsbook.runbooks collection as Ansible sees it (installed or editable)."""
    import ansible_collections.opsbook.runbooks as collection

    return Path(collection.__path__[0]).resolve()


def collection_version() -> str:
    """The collection's version: its galaxy.yml (a checkout), else MANIFEST.json (an installed build)."""
    root = collection_root()
    try:
        with open(root / "galaxy.yml") as handle:
            return str(yaml.safe_load(handle)["version"])
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass
    try:
        import json

        with open(root / "MANIFEST.json") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    except (OSError, KeyError, TypeError, ValueError):
        return "unknown"


def lab_inventory() -> Path:
    return collection_root() / "inventories" / "lab"


@dataclass
class Scenario:
    name: str
    title: str
    seeds: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    playbook: str | None = None
    read_only: bool = False

    @property
    def available(self) -> bool:
        return self.playbook is not None

    @property
    def playbook_path(self) -> Path:
        return collection_root() / "playbooks" / self.playbook


def load_catalog() -> dict[str, Scenario]:
    with open(collection_root() / "playbooks" / "catalog.yml") as handle:
        data = yaml.safe_load(handle)
    return {entry["name"]: Scenario(**entry) for entry in data["scenarios"]}


class NoScenario(Exception):
    """An alert the catalogue gives no runnable scenario for (the message says why)."""


def scenario_for_alert(alertname: str, labels: dict | None = None,
                       catalog: dict[str, Scenario] | None = None) -> tuple[Scenario, str]:
    """The scenario an alert runs, and why: the one mapping of `opsbook respond` and the EDA rulebook.

    The catalogue's ``alerts:`` lists decide. An alert's ``scenario`` label (the shipped rule
    files set it) may confirm that choice but never overrides it: a label naming another
    scenario, an alert no entry lists, or an entry still planned raise NoScenario.
    """
    catalog = load_catalog() if catalog is None else catalog
    labelled = (labels or {}).get("scenario")
    matches = [entry for entry in catalog.values() if alertname in entry.alerts]
    if not matches:
        hint = f" (its scenario label says {labelled!r}, but the catalogue lists the alert nowhere)" if labelled else ""
        raise NoScenario(f"no scenario for alert {alertname}{hint}; playbooks/catalog.yml lists the alerts it handles")
    entry = matches[0]
    if labelled and labelled != entry.name:
        raise NoScenario(f"no scenario for alert {alertname}: the catalogue maps it to {entry.name}, "
                         f"its scenario label says {labelled!r}")
    if not entry.available:
        raise NoScenario(f"no scenario for alert {alertname}: {entry.name} is planned, not implemented yet")
    why = f"the catalogue lists {alertname} under {entry.name}"
    return entry, why + (" (the alert's scenario label agrees)" if labelled else "")
