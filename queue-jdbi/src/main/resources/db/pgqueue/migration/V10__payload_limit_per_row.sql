-- pgqueue V10: the payload limit checked per row, with the limit in the trigger's WHEN condition, instead
-- of V4's statement-level trigger over a transition table. Same rule, same error, same owner-only
-- setting (docs/sql-contract.md); a single insert costs the server about 30 % less (PostgreSQL 15,
-- pgbench, 5,000 single-row inserts x 3: 171-192 us with V4's trigger, 119-130 us with this one, as
-- cheap as no payload check at all; docs/performance.md).
--
-- Plain SQL, like V1-V8: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Functions written here call built-ins as pg_catalog.<name> and compare with OPERATOR(pg_catalog.<op>),
-- so that no function or operator another role creates in this schema can stand in for them.
--
-- Why it was slow: V4's check ran once per statement, in PL/pgSQL, over the inserted rows, and called
-- job_queue_max_payload_bytes() (a SECURITY DEFINER function with a pinned search_path, which
-- PostgreSQL cannot inline: each call goes through the SQL-function executor). Checking each row against
-- job_queue_max_payload_bytes() in a WHEN condition costs as much. What is cheap is a WHEN condition
-- that compares the payload's size with a constant, built-ins only: a row within it queues nothing and
-- calls nothing. So the constant is the limit, and a trigger on job_queue_setting writes it again
-- whenever the limit changes. The row trigger's function reads the limit itself before it raises, so
-- the error always names the limit in force.
--
-- Safe during a rolling upgrade: older pgqueue versions insert with the same statements; the check
-- moves from one trigger to another within this migration's transaction.

-- ---- the check of one inserted row ---------------------------------------------------------------------

-- Fired only for a row whose payload is over the constant in the trigger's WHEN (the limit when it was
-- last set). SECURITY DEFINER, as V4's, so that the check never depends on the inserting role's right
-- to execute the limit's function: it reads the row and the limit, and raises, nothing else. V4's
-- function and trigger names are kept (now for one row), so that an older pgqueue that checks the
-- schema at start (SchemaMigrator.verify) still finds them during a rolling upgrade.
CREATE OR REPLACE FUNCTION job_queue_check_inserted_payloads() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS
$$
DECLARE
    payload_bytes integer := pg_catalog.octet_length(CAST(NEW.payload AS text));
    max_bytes     integer := job_queue_max_payload_bytes();
BEGIN
    IF payload_bytes OPERATOR(pg_catalog.>) max_bytes THEN
        RAISE EXCEPTION 'expected payload to be at most % bytes of JSON (job_queue_setting.max_payload_bytes), got: % bytes (job %/%)',
            max_bytes, payload_bytes, NEW.job_type, NEW.id
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN NULL;
END
$$;

-- (Re)creates the row trigger with the limit in force as its constant. Run by this migration, and by
-- the trigger below whenever job_queue_setting changes (only its owner can change it). SECURITY
-- INVOKER: the owner who changes the limit is allowed to replace a trigger of job_queue. Replacing
-- the trigger locks job_queue against writes (SHARE ROW EXCLUSIVE) until the change commits: inserts
-- wait for that transaction, which a limit change should keep short.
CREATE OR REPLACE FUNCTION job_queue_apply_payload_limit() RETURNS void
    LANGUAGE plpgsql VOLATILE AS
$$
BEGIN
    EXECUTE pg_catalog.format(
        'CREATE OR REPLACE TRIGGER job_queue_check_payload_insert AFTER INSERT ON %I.job_queue FOR EACH ROW'
        ' WHEN (pg_catalog.octet_length(CAST(NEW.payload AS text)) OPERATOR(pg_catalog.>) %s)'
        ' EXECUTE FUNCTION %I.job_queue_check_inserted_payloads()',
        pg_catalog.current_schema(), job_queue_max_payload_bytes(), pg_catalog.current_schema());
END
$$;

CREATE OR REPLACE FUNCTION job_queue_setting_changed() RETURNS trigger
    LANGUAGE plpgsql VOLATILE AS
$$
BEGIN
    PERFORM job_queue_apply_payload_limit();
    RETURN NULL;
END
$$;

-- Pin the new functions' search_path to this schema (then pg_temp), as V1-V8 do, before they run.
DO
$$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'job_queue_check_inserted_payloads()',
        'job_queue_apply_payload_limit()',
        'job_queue_setting_changed()'
    ] LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, pg_catalog.current_schema());
    END LOOP;
END
$$;

-- V4's statement-level trigger becomes a row trigger of the same name: written here with the default
-- limit, then at once with the limit in force (V4's check of payload updates stays: it is per row).
DROP TRIGGER IF EXISTS job_queue_check_payload_insert ON job_queue;
CREATE TRIGGER job_queue_check_payload_insert
    AFTER INSERT ON job_queue
    FOR EACH ROW
    WHEN (pg_catalog.octet_length(CAST(NEW.payload AS text)) OPERATOR(pg_catalog.>) 1048576)
    EXECUTE FUNCTION job_queue_check_inserted_payloads();
SELECT job_queue_apply_payload_limit();

DROP TRIGGER IF EXISTS job_queue_setting_changed ON job_queue_setting;
CREATE TRIGGER job_queue_setting_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON job_queue_setting
    FOR EACH STATEMENT EXECUTE FUNCTION job_queue_setting_changed();

-- ---- rights --------------------------------------------------------------------------------------

-- Nothing here is for anyone to call: triggers run their functions without an EXECUTE check. Where
-- Supabase's roles exist, take back what their default privileges granted at once (as V7 does).
REVOKE ALL ON FUNCTION job_queue_check_inserted_payloads(), job_queue_apply_payload_limit(),
    job_queue_setting_changed() FROM PUBLIC;
DO
$$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION job_queue_check_inserted_payloads(), '
                'job_queue_apply_payload_limit(), job_queue_setting_changed() FROM %I', r);
        END IF;
    END LOOP;
END
$$;
