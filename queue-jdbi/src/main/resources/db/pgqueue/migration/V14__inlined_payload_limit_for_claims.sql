-- pgqueue V14: the claim statements read the payload limit from a function that PostgreSQL inlines, instead
-- of calling job_queue_max_payload_bytes() once per claim. Same rule, same error, same owner-only setting
-- (docs/sql-contract.md); a claim costs the server less (docs/performance.md, "Issue 14, fourth round").
--
-- Plain SQL, like V1-V13: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Why: job_queue_max_payload_bytes() is SECURITY DEFINER with a pinned search_path (it reads the owner's
-- job_queue_setting for every role), so PostgreSQL cannot inline it: every claim called it through the
-- SQL-function executor, switching the search_path and planning its body, about as much server time as
-- the rest of a one-job claim. V10 already keeps the limit as a constant in the insert trigger's WHEN and
-- writes it again whenever job_queue_setting changes; this migration has the same function write a second
-- copy of that constant: job_queue_max_payload_bytes_constant(), a LANGUAGE sql IMMUTABLE function with
-- no settings, that PostgreSQL folds into the claim's plan as a constant. A plan records the functions it
-- inlined, and replacing one invalidates every cached plan that used it, also in other sessions (their
-- next transaction sees it), so server-prepared claims use the new limit from their next execution.
-- A claim still asks job_queue_max_payload_bytes() itself for a job over the constant before failing it,
-- so the error always names the limit in force, as V10's insert check does.
--
-- Safe during a rolling upgrade: older workers keep calling job_queue_max_payload_bytes(), unchanged;
-- newer ones need this migration (their claim statements call the new function).

-- The limit as a constant, for the claim statements. Written again by job_queue_apply_payload_limit()
-- below whenever the limit changes, so its body is the limit in force; this is the default one.
-- No SET and no SECURITY DEFINER, so that PostgreSQL can inline it; its body names nothing to look up.
CREATE OR REPLACE FUNCTION job_queue_max_payload_bytes_constant() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$SELECT 1048576$$;

-- V10's function, which also writes job_queue_max_payload_bytes_constant() with the limit in force.
-- (Re)creates the row trigger with the limit in force as its constant. Run by this migration, and by
-- the trigger on job_queue_setting whenever it changes (only its owner can change it). SECURITY
-- INVOKER: the owner who changes the limit is allowed to replace a trigger of job_queue and the
-- function. Replacing the trigger locks job_queue against writes (SHARE ROW EXCLUSIVE) until the
-- change commits: inserts wait for that transaction, which a limit change should keep short.
CREATE OR REPLACE FUNCTION job_queue_apply_payload_limit() RETURNS void
    LANGUAGE plpgsql VOLATILE AS
$$
DECLARE
    max_bytes integer := job_queue_max_payload_bytes();
BEGIN
    EXECUTE pg_catalog.format(
        'CREATE OR REPLACE TRIGGER job_queue_check_payload_insert AFTER INSERT ON %I.job_queue FOR EACH ROW'
        ' WHEN (pg_catalog.octet_length(CAST(NEW.payload AS text)) OPERATOR(pg_catalog.>) %s)'
        ' EXECUTE FUNCTION %I.job_queue_check_inserted_payloads()',
        pg_catalog.current_schema(), max_bytes, pg_catalog.current_schema());
    EXECUTE pg_catalog.format(
        'CREATE OR REPLACE FUNCTION %I.job_queue_max_payload_bytes_constant() RETURNS integer'
        ' LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        pg_catalog.current_schema(), 'SELECT ' OPERATOR(pg_catalog.||) CAST(max_bytes AS text));
END
$$;

-- CREATE OR REPLACE resets the function's settings: pin its search_path to this schema (then pg_temp)
-- again, as V10 did, before it runs.
DO
$$
BEGIN
    EXECUTE pg_catalog.format('ALTER FUNCTION job_queue_apply_payload_limit() SET search_path = %I, pg_temp',
                              pg_catalog.current_schema());
END
$$;

SELECT job_queue_apply_payload_limit();

-- ---- rights --------------------------------------------------------------------------------------

-- Whoever may read the limit through job_queue_max_payload_bytes() may execute the constant (a claim
-- needs to: PostgreSQL inlines a function only for a role that may execute it), and nobody else: the
-- new function's rights become a copy of that function's. Replacing the function later keeps them.
DO
$$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT a.grantee
          FROM pg_catalog.pg_proc p,
               pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
         WHERE p.oid OPERATOR(pg_catalog.=) CAST('job_queue_max_payload_bytes_constant()' AS pg_catalog.regprocedure)
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        IF g.grantee OPERATOR(pg_catalog.=) 0 THEN
            REVOKE ALL ON FUNCTION job_queue_max_payload_bytes_constant() FROM PUBLIC;
        ELSE
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION job_queue_max_payload_bytes_constant() FROM %I',
                                      pg_catalog.pg_get_userbyid(g.grantee));
        END IF;
    END LOOP;
    FOR g IN
        SELECT a.grantee
          FROM pg_catalog.pg_proc p,
               pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
         WHERE p.oid OPERATOR(pg_catalog.=) CAST('job_queue_max_payload_bytes()' AS pg_catalog.regprocedure)
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
    LOOP
        IF g.grantee OPERATOR(pg_catalog.=) 0 THEN
            GRANT EXECUTE ON FUNCTION job_queue_max_payload_bytes_constant() TO PUBLIC;
        ELSE
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION job_queue_max_payload_bytes_constant() TO %I',
                                      pg_catalog.pg_get_userbyid(g.grantee));
        END IF;
    END LOOP;
END
$$;
