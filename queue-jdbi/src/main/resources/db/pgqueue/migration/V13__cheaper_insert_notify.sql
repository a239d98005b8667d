-- pgqueue V13: the insert trigger's NOTIFY names its channel itself instead of calling job_queue_channel().
-- Same channel, same payloads, same timing (one NOTIFY per statement and queue with a pending job,
-- delivered at commit); a single-row insert costs the server about a quarter less (PostgreSQL 15, backend
-- CPU per autocommit insert of insert-one.sql's shape, 5,000 x 3 interleaved: 164-208 us with V1-V12,
-- 136-152 us with this; a 10,000-row insert unchanged; docs/performance.md, "W3: third round").
--
-- Plain SQL, like V1-V12: run it with `psql -f`, in the Supabase SQL editor, by Flyway or by pgqueue's
-- own migrator. Everything is created in the current schema (the first schema on search_path), so
-- `SET search_path = myschema;` first to choose another. Running it again changes nothing.
--
-- Functions written here call built-ins as pg_catalog.<name> and compare with OPERATOR(pg_catalog.<op>),
-- so that no function or operator another role creates in this schema can stand in for them.
--
-- Why it was slow: job_queue_channel() is a SQL function with a pinned search_path, which PostgreSQL
-- cannot inline: each call switches the search_path and parses and plans the function's body again, more
-- than the rest of the trigger together. Measured without the trigger, with the trigger as V4 wrote it,
-- and with the channel's expression inline, the NOTIFY cost 60-80 us of server CPU per insert, and 15-25 us
-- inline. The expression is job_queue_channel()'s own: under this function's search_path (pinned to this
-- schema, as that function's is) current_schema() is the same schema, so the channel is the same name.
-- job_queue_channel() stays, unchanged: workers LISTEN on what it returns, and SQL callers may use it.
--
-- The trigger stays a statement trigger over its transition table. A row trigger (one NOTIFY per
-- inserted row, which PostgreSQL de-duplicates within the transaction) cost single inserts as little, but
-- made a 10,000-row insert 15-25 % slower (a function call per row).
--
-- Safe during a rolling upgrade: only the function's body changes, within this migration's transaction;
-- its name, its trigger and what it sends are as before, so an older pgqueue (SchemaMigrator.verify)
-- still finds the trigger and accepts the body as a newer version's.

CREATE OR REPLACE FUNCTION job_queue_notify_insert() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_catalog.pg_notify(
                CASE WHEN pg_catalog.octet_length(CAST(pg_catalog.current_schema() AS text)) OPERATOR(pg_catalog.<=) 53
                     THEN CAST('job_queue_' AS text) OPERATOR(pg_catalog.||) CAST(pg_catalog.current_schema() AS text)
                     ELSE CAST('job_queue_' AS text) OPERATOR(pg_catalog.||) pg_catalog.md5(CAST(pg_catalog.current_schema() AS text)) END,
                q.queue)
       FROM (SELECT DISTINCT i.queue FROM inserted_jobs i WHERE i.status OPERATOR(pg_catalog.=) CAST('pending' AS text)) q;
    RETURN NULL;
END
$$;

-- CREATE OR REPLACE resets the function's settings: pin its search_path to this schema (then pg_temp)
-- again, as V1 and V4 did, so that current_schema() above is this schema whoever inserts.
DO
$$
BEGIN
    EXECUTE pg_catalog.format('ALTER FUNCTION job_queue_notify_insert() SET search_path = %I, pg_temp',
                              pg_catalog.current_schema());
END
$$;
