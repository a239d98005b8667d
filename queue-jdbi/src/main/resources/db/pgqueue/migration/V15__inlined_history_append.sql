-- pgqueue V15: job_queue_history_append() (V12), which every outcome statement that records an attempt
-- calls (a retry, a failure, a cancellation, a rescue, a payload edit), becomes a function PostgreSQL
-- inlines into the statement. Same entries, same 20 kept, same name, arguments, owner and rights
-- (docs/sql-contract.md); such a statement costs the server less (docs/performance.md, "Issue 14, eighth
-- round").
--
-- Plain SQL, like V1-V14: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Why: V12 pinned the function's search_path (SET search_path), and PostgreSQL never inlines a function
-- that has settings: every statement that called it switched the search_path and parsed and planned the
-- function's body through the SQL-function executor, 40-80 µs of a one-row retry's server time. The
-- body names nothing a caller's search_path could redirect: every function, operator and type is
-- pg_catalog's (qualified, with operands of the operator's exact types), so it needs no pinned
-- search_path, and without one PostgreSQL inlines it. (An SQL-standard RETURN body would be bound at
-- creation too, but it keeps no source text for SchemaMigrator.verify() to tell this version by.)
-- CREATE OR REPLACE keeps the owner and the EXECUTE rights, which inlining still requires of the
-- caller, and drops the setting.
--
-- Safe during a rolling upgrade: older and newer workers call the same function with the same arguments
-- and get the same value.

CREATE OR REPLACE FUNCTION job_queue_history_append(history jsonb, attempt integer, happened_at timestamptz,
                                                    kind text, message text, worker text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE AS
$$
SELECT CASE WHEN pg_catalog.jsonb_array_length(coalesce(history, CAST('[]' AS pg_catalog.jsonb))) OPERATOR(pg_catalog.>=) 20
            THEN history OPERATOR(pg_catalog.-) 0 ELSE coalesce(history, CAST('[]' AS pg_catalog.jsonb)) END
       OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
           'attempt', attempt, 'at', happened_at, 'kind', kind, 'message', message, 'worker', worker))
$$;

COMMENT ON FUNCTION job_queue_history_append(jsonb, integer, timestamptz, text, text, text) IS
    'pgqueue: a job''s attempt history with one entry appended (the latest 20 kept); inlined into the statements that call it (V15)';
