-- Enqueue many jobs in one statement. Parameters: :now (null = database clock), then one array per
-- column, named as the column, element i of each describing job i; :payload is JSON text, :run_at
-- null means now + :delay_micros, :trace_context is a JSON object's text or null (V8).
WITH clock AS (SELECT coalesce(CAST(:now AS timestamptz), pg_catalog.statement_timestamp()) AS now)
INSERT INTO {schema}.job_queue (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at, trace_context)
SELECT j.id, j.job_type, j.queue, CAST(j.payload AS jsonb), j.priority,
       coalesce(j.run_at, clock.now + CAST(j.delay_micros AS double precision) * interval '1 microsecond'),
       j.max_retries, j.user_id, clock.now, CAST(j.trace_context AS jsonb)
  FROM clock,
       unnest(CAST(:id AS uuid[]),
              CAST(:job_type AS text[]),
              CAST(:queue AS text[]),
              CAST(:payload AS text[]),
              CAST(:priority AS int[]),
              CAST(:run_at AS timestamptz[]),
              CAST(:delay_micros AS bigint[]),
              CAST(:max_retries AS int[]),
              CAST(:user_id AS uuid[]),
              CAST(:trace_context AS text[]))
           AS j(id, job_type, queue, payload, priority, run_at, delay_micros, max_retries, user_id, trace_context)
