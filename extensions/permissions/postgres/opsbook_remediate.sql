-- opsbook remediation and backup on PostgreSQL (docs/permissions.md).
-- Run as a superuser in the database opsbook connects to:
--   psql -v ON_ERROR_STOP=1 -d <database> -f opsbook_remediate.sql
-- then set its password out of band:  \password opsbook_remediate
-- Idempotent: running it again changes nothing.
--
-- Everything opsbook_monitor may, plus:
--   pg_signal_backend  pg_cancel_backend / pg_terminate_backend of other roles' sessions
--                      (postgres-connection-pool's "terminate > 30 s"); never a superuser's session
--   pg_read_all_data   pg_dump of every table, sequence and schema (backup, deploy's pre-deploy backup)
--   pg_rotate_logfile  disk-space's log rotation (superuser only unless granted)
--   pg_maintain        VACUUM / ANALYZE / REINDEX of any table (PostgreSQL 17 and later; before 17 only
--                      the table's owner or a superuser may: run postgres-maintenance as the owner)
-- Not granted: CREATEDB (restore / database-recovery create the target database: use the database
-- owner or a role with CREATEDB for those), SUPERUSER, REPLICATION.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opsbook_remediate') THEN
    CREATE ROLE opsbook_remediate LOGIN;
  END IF;
END
$$;
ALTER ROLE opsbook_remediate LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
GRANT pg_monitor TO opsbook_remediate;
GRANT pg_signal_backend TO opsbook_remediate;
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE 'GRANT pg_read_all_data TO opsbook_remediate';
  END IF;
  IF current_setting('server_version_num')::int >= 170000 THEN
    EXECUTE 'GRANT pg_maintain TO opsbook_remediate';
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO opsbook_remediate', current_database());
END
$$;
GRANT EXECUTE ON FUNCTION pg_rotate_logfile() TO opsbook_remediate;
