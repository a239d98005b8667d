-- Drops every CHECK constraint of job_queue in schema :s (the floor: what the checks cost).
-- psql -v s=<schema> -f variant-none.sql, on a scratch schema migrated with `pgqueue migrate`.
\set ON_ERROR_STOP 1
SET search_path = :"s";
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'job_queue'::regclass AND contype = 'c' LOOP
        EXECUTE format('ALTER TABLE job_queue DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
