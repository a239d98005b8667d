-- The staging table of a bulk enqueue: COPY (insert-copy.sql) fills it with one row per job, then
-- insert-copied.sql moves the rows into job_queue and drops it. It has insert-many.sql's columns, in
-- that order, with the types that statement's arrays have before its casts (payload and run_at as
-- text), so that insert-copied.sql computes every value with insert-many.sql's very expressions. A
-- temporary table of this transaction only (ON COMMIT DROP should the drop not be reached): nothing
-- outlives the transaction, which a transaction-mode pooler (PgBouncer, Supavisor) requires. No
-- parameters.
CREATE TEMP TABLE pgqueue_enqueue_staging (
    id           uuid,
    job_type     text,
    queue        text,
    payload      text,
    priority     integer,
    run_at       text,
    delay_micros bigint,
    max_retries  integer,
    user_id      uuid,
    trace_context text
) ON COMMIT DROP
