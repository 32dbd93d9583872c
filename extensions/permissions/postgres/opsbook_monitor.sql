-- opsbook diagnosis on PostgreSQL: the read-only monitoring role (docs/permissions.md).
-- Run as a superuser (or a role with CREATEROLE that holds pg_monitor WITH ADMIN) in the database
-- opsbook connects to:  psql -v ON_ERROR_STOP=1 -d <database> -f opsbook_monitor.sql
-- then set its password out of band:  \password opsbook_monitor
-- Idempotent: running it again changes nothing.
--
-- Enough for pg_health (connections by state and database, long queries, locks, cache hit, index use,
-- pg_stat_statements, replication), pg_backends action=list, the diagnosis of postgres-connection-pool,
-- postgres-performance and health-check. It can neither signal backends nor change anything:
-- pg_cancel_backend/pg_terminate_backend of another role's session are refused (SQLSTATE 42501).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opsbook_monitor') THEN
    CREATE ROLE opsbook_monitor LOGIN;
  END IF;
END
$$;
ALTER ROLE opsbook_monitor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
-- pg_read_all_settings + pg_read_all_stats (every session's query and state, pg_stat_statements of
-- every role) + pg_stat_scan_tables
GRANT pg_monitor TO opsbook_monitor;
-- every transaction of this role is read-only (a wrong statement in sql_checks cannot write)
ALTER ROLE opsbook_monitor SET default_transaction_read_only = on;
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO opsbook_monitor', current_database());
END
$$;
-- pg_explain and sql_checks read application tables: grant SELECT on what they query, per schema, e.g.
--   GRANT USAGE ON SCHEMA app TO opsbook_monitor;
--   GRANT SELECT ON ALL TABLES IN SCHEMA app TO opsbook_monitor;
