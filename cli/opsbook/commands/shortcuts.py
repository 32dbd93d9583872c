"""Shortcuts for the scheduled and rehearsed jobs: `opsbook backup`, `opsbook maintenance`, `opsbook dr rehearse`.

Each is `opsbook run SCENARIO` with a preset of the scenario's variables and every one of run's options
(commands/run.py's RUN_OPTIONS and run_scenario): nothing of its own but the preset.
"""

from __future__ import annotations

import click

from opsbook.commands.run import RUN_OPTIONS, options, run_scenario

# `opsbook backup --verify`: no new backup, only the catalogue step (backup_catalog: every backup re-hashed
# against its manifest, the newest verified one's age against backup_max_age_hours).
BACKUP_VERIFY = {"backup_postgres": False, "backup_redis": False, "backup_files_paths": [],
                 "backup_k8s_namespaces": []}

# `opsbook maintenance weekly|monthly`: roles/postgres_maintenance's switches (Kafka retention runs in both
# when the inventory lists kafka_retention_topics). Weekly: VACUUM ANALYZE (the role's defaults);
# monthly: also REINDEX DATABASE + ANALYZE (ETL seed, "Tarefas Mensais").
MAINTENANCE = {
    "weekly": {"postgres_maintenance_vacuum_analyze": True, "postgres_maintenance_reindex_database": False},
    "monthly": {"postgres_maintenance_vacuum_analyze": True, "postgres_maintenance_reindex_database": True},
}

# appended to each shortcut's help, indented as its docstring (click dedents the whole text)
SAME_AS_RUN = ("\n\n    All of `opsbook run`'s options apply (-i, -l, -C, --remediate, --confirm, -e, --json, --report, "
               "--timeout, -v, --no-history...); -e values given by hand win over the preset. Exit codes: see "
               "`opsbook run --help` (0 ok, 1 warning, 2 critical, 3 not checked, 4 run failed, 64 usage).")


@click.command()
@click.option("--verify", is_flag=True,
              help="Take no new backup: verify the existing ones (re-hash against their manifests, age of the newest).")
@options(*RUN_OPTIONS)
@click.pass_obj
def backup(app, verify, **opts):
    """Back up (the backup scenario), or with --verify only verify the backups there are.

    \b
    opsbook backup             = opsbook run backup
    opsbook backup --verify    = opsbook run backup -e '{"backup_postgres": false, "backup_redis": false,
                                   "backup_files_paths": [], "backup_k8s_namespaces": []}'

    \b
    Examples:
      opsbook backup -i inventories/prod --json > backup.json
      opsbook backup --verify -i inventories/prod          # critical: a damaged backup, or none verified
      opsbook backup --verify -e backup_location=/srv/backups -e backup_max_age_hours=24
    """
    return run_scenario(app, "backup", preset=BACKUP_VERIFY if verify else None, **opts)


backup.help += SAME_AS_RUN


@click.command()
@click.argument("schedule", type=click.Choice(list(MAINTENANCE)))
@options(*RUN_OPTIONS)
@click.pass_obj
def maintenance(app, schedule, **opts):
    """The weekly or monthly maintenance (the maintenance scenario): measures, or with --remediate does it.

    \b
    opsbook maintenance weekly   = opsbook run maintenance -e '{"postgres_maintenance_vacuum_analyze": true,
                                     "postgres_maintenance_reindex_database": false}'
    opsbook maintenance monthly  = the same with "postgres_maintenance_reindex_database": true
    Both set Kafka retention on kafka_retention_topics (when the inventory lists them), within an
    Alertmanager silence of the window when the inventory names one.

    \b
    Examples:
      opsbook maintenance weekly -i inventories/prod                 # what it would do
      opsbook maintenance weekly -i inventories/prod --remediate --json > weekly.json
      opsbook maintenance monthly -i inventories/etl --remediate -C  # check mode: the statements
    """
    return run_scenario(app, "maintenance", preset=MAINTENANCE[schedule], **opts)


maintenance.help += SAME_AS_RUN


@click.group()
def dr():
    """Disaster recovery: `opsbook dr rehearse`."""


@dr.command()
@options(*RUN_OPTIONS)
@click.pass_obj
def rehearse(app, **opts):
    """Rehearse a disaster recovery (the dr-rehearsal scenario): back up, restore into scratch targets,
    verify, and report the achieved RTO/RPO against the targets.

    \b
    opsbook dr rehearse   = opsbook run dr-rehearsal

    \b
    Examples:
      opsbook dr rehearse -i inventories/mlbling --json > dr.json
      opsbook dr rehearse -e dr_rehearsal_rto_hours=4 -e dr_rehearsal_rpo_hours=1
    """
    return run_scenario(app, "dr-rehearsal", **opts)


rehearse.help += SAME_AS_RUN
