"""Where the collection lives, and its scenario catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


def collection_root() -> Path:
    """The opsbook.runbooks collection as Ansible sees it (installed or editable)."""
    import ansible_collections.opsbook.runbooks as collection

    return Path(collection.__path__[0]).resolve()


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
