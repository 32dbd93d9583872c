# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ETL SLA (seed 004, "Métricas de SLA") as ``sql_checks`` checks on ``etl_file``.

- success rate: the seed's "SLA Dashboard Query" over the window (``>= 98`` SLA OK, ``>= 95``
  warning, else breach), with ``::numeric`` and ``NULLIF`` (``round(double precision, int)`` does
  not exist in PostgreSQL, and an empty window would divide by zero);
- processing time: the share of the window's completed files processed within the limit
  (``< 2 horas para 95 % dos arquivos``), from the same ``completed_at - processing_started_at``.

The availability target (99.5 %) is a Prometheus SLO of the ETL API; the recovery time (< 15 min)
has no column in the seed's schema and is not measured here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


def _positive(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidInput("%s must be a positive number, got %r" % (what, value))
    return value


def etl_sla_checks(window_hours=24, success_ok_pct=98, success_warning_pct=95, max_minutes=120, within_pct=95):
    """The two checks, for M(opsbook.runbooks.sql_checks) ``checks``."""
    hours = int(_positive(window_hours, "window_hours"))
    minutes = float(_positive(max_minutes, "max_minutes"))
    return [
        {"name": "etl_sla_success_rate", "description": "ETL SLA success rate over %d hours" % hours,
         "column": "success_rate_percent", "warn": success_ok_pct, "crit": success_warning_pct,
         "direction": "below", "strict": True, "unit": "%",
         "sql": "WITH recent_files AS (SELECT COUNT(*) as total_files, "
                "COUNT(*) FILTER (WHERE status = 'loaded') as successful_files, "
                "AVG(EXTRACT(EPOCH FROM (completed_at - processing_started_at))/60) as avg_processing_minutes "
                "FROM etl_file WHERE uploaded_at > NOW() - INTERVAL '%d hours') "
                "SELECT total_files, successful_files, "
                "ROUND((successful_files::numeric / NULLIF(total_files, 0) * 100), 2) as success_rate_percent, "
                "ROUND(avg_processing_minutes::numeric, 2) as avg_processing_minutes FROM recent_files;" % hours},
        {"name": "etl_sla_processing_time",
         "description": "ETL files of the last %d hours processed within %g minutes" % (hours, minutes),
         "column": "within_sla_percent", "crit": within_pct, "direction": "below", "strict": True, "unit": "%",
         "sql": "SELECT COUNT(*) AS files, ROUND(COUNT(*) FILTER (WHERE EXTRACT(EPOCH FROM "
                "(completed_at - processing_started_at))/60 <= %r)::numeric * 100 / NULLIF(COUNT(*), 0), 2) "
                "AS within_sla_percent FROM etl_file WHERE completed_at > NOW() - INTERVAL '%d hours' "
                "AND processing_started_at IS NOT NULL;" % (minutes, hours)},
    ]
