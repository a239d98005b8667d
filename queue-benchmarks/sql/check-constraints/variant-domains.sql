-- job_queue's 11 CHECK constraints (V1-V8) on domains, under their own names, applied by a row trigger
-- that casts the row's values to them, in schema :s. Seven are on one column each; the four that span
-- columns are on one composite of those seven columns.
-- psql -v s=<schema> -v when=AFTER -f variant-domains.sql    (or when=BEFORE, as in variant-if.sql)
\set ON_ERROR_STOP 1
\ir variant-none.sql
CREATE DOMAIN job_queue_job_type_value AS text
    CONSTRAINT job_queue_job_type_check CHECK (VALUE ~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$' AND octet_length(VALUE) <= 128);
CREATE DOMAIN job_queue_queue_value AS text
    CONSTRAINT job_queue_queue_check CHECK (VALUE ~ '^[A-Za-z_][A-Za-z0-9_-]*$' AND octet_length(VALUE) <= 63);
CREATE DOMAIN job_queue_dedupe_value AS text
    CONSTRAINT job_queue_dedupe_check CHECK (VALUE IS NULL OR length(VALUE) BETWEEN 1 AND 255);
CREATE DOMAIN job_queue_partition_key_value AS text
    CONSTRAINT job_queue_partition_key_check CHECK (VALUE IS NULL OR length(VALUE) BETWEEN 1 AND 255);
CREATE DOMAIN job_queue_progress_value AS smallint
    CONSTRAINT job_queue_progress_check CHECK (VALUE BETWEEN 0 AND 100);
CREATE DOMAIN job_queue_trace_context_value AS jsonb
    CONSTRAINT job_queue_trace_context_check CHECK (VALUE IS NULL OR jsonb_typeof(VALUE) = 'object' AND octet_length(VALUE::text) <= 4096);
CREATE DOMAIN job_queue_unique_states_value AS text[]
    CONSTRAINT job_queue_unique_states_check CHECK (VALUE IS NULL OR cardinality(VALUE) = 0
        OR ('pending' = ANY (VALUE)) AND VALUE <@ ARRAY['waiting', 'pending', 'processing', 'completed', 'failed', 'cancelled']);
CREATE TYPE job_queue_state_fields AS (status text, lease_expires_at timestamptz, retry_count integer, max_retries integer,
                                       attempt integer, waiting_for integer, on_dependency_failure text);
CREATE DOMAIN job_queue_state_value AS job_queue_state_fields
    CONSTRAINT job_queue_status_check CHECK ((VALUE).status IN ('waiting', 'pending', 'processing', 'completed', 'failed', 'cancelled'))
    CONSTRAINT job_queue_lease_check CHECK ((VALUE).status <> 'processing' OR (VALUE).lease_expires_at IS NOT NULL)
    CONSTRAINT job_queue_counts_check CHECK ((VALUE).retry_count >= 0 AND (VALUE).max_retries >= 0 AND (VALUE).attempt >= 0)
    CONSTRAINT job_queue_dependencies_check CHECK (((VALUE).waiting_for IS NULL OR (VALUE).waiting_for >= 0)
        AND ((VALUE).status <> 'waiting' OR COALESCE((VALUE).waiting_for, 0) > 0)
        AND ((VALUE).on_dependency_failure IS NULL OR (VALUE).on_dependency_failure IN ('cancel', 'run')));
CREATE FUNCTION job_queue_check_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked integer;
BEGIN
    -- num_nulls() evaluates every argument; each cast checks its domain's constraints.
    checked := num_nulls(CAST(NEW.job_type AS job_queue_job_type_value), CAST(NEW.queue AS job_queue_queue_value),
                         CAST(NEW.dedupe_key AS job_queue_dedupe_value), CAST(NEW.partition_key AS job_queue_partition_key_value),
                         CAST(NEW.progress_percent AS job_queue_progress_value), CAST(NEW.trace_context AS job_queue_trace_context_value),
                         CAST(NEW.unique_states AS job_queue_unique_states_value),
                         CAST(ROW(NEW.status, NEW.lease_expires_at, NEW.retry_count, NEW.max_retries, NEW.attempt,
                                  NEW.waiting_for, NEW.on_dependency_failure) AS job_queue_state_value));
    RETURN NEW;
END $$;
SELECT format('ALTER FUNCTION job_queue_check_row() SET search_path = %I, pg_temp', current_schema()) \gexec
CREATE TRIGGER job_queue_check_row :when INSERT OR UPDATE ON job_queue FOR EACH ROW EXECUTE FUNCTION job_queue_check_row();
