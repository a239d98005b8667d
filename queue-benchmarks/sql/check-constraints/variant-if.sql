-- job_queue's 11 CHECK constraints (V1-V8) as one IF in a row trigger, in schema :s.
-- psql -v s=<schema> -v when=AFTER -f variant-if.sql    (or when=BEFORE: fires before pgqueue's own
-- BEFORE triggers, whose names sort after it, so a seed-style insert of a 'processing' row fails here)
\set ON_ERROR_STOP 1
\ir variant-none.sql
CREATE FUNCTION job_queue_check_row() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (NEW.job_type ~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' AND octet_length(NEW.job_type) <= 128)
       AND (NEW.queue ~ '^[A-Za-z_][A-Za-z0-9_-]*$' AND octet_length(NEW.queue) <= 63)
       AND (NEW.dedupe_key IS NULL OR length(NEW.dedupe_key) BETWEEN 1 AND 255)
       AND (NEW.partition_key IS NULL OR length(NEW.partition_key) BETWEEN 1 AND 255)
       AND (NEW.progress_percent IS NULL OR NEW.progress_percent BETWEEN 0 AND 100)
       AND (NEW.trace_context IS NULL OR jsonb_typeof(NEW.trace_context) = 'object' AND octet_length(NEW.trace_context::text) <= 4096)
       AND (NEW.unique_states IS NULL OR cardinality(NEW.unique_states) = 0
            OR ('pending' = ANY (NEW.unique_states)) AND NEW.unique_states <@ ARRAY['waiting', 'pending', 'processing', 'completed', 'failed', 'cancelled'])
       AND NEW.status IN ('waiting', 'pending', 'processing', 'completed', 'failed', 'cancelled')
       AND (NEW.status <> 'processing' OR NEW.lease_expires_at IS NOT NULL)
       AND (NEW.retry_count >= 0 AND NEW.max_retries >= 0 AND NEW.attempt >= 0)
       AND (NEW.waiting_for IS NULL OR NEW.waiting_for >= 0) AND (NEW.status <> 'waiting' OR COALESCE(NEW.waiting_for, 0) > 0)
       AND (NEW.on_dependency_failure IS NULL OR NEW.on_dependency_failure IN ('cancel', 'run')) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'new row for relation "job_queue" violates a check' USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER job_queue_check_row :when INSERT OR UPDATE ON job_queue FOR EACH ROW EXECUTE FUNCTION job_queue_check_row();
