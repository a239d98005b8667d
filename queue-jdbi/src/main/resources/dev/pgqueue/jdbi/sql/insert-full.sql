-- Enqueue jobs that use what insert-many.sql leaves out: dependencies (status 'waiting', or
-- 'cancelled' when a dependency failed already; waiting_for, on_dependency_failure), dependents
-- (has_dependents), partition keys and dedupe keys, in one statement. As insert-unique.sql, a job
-- with a dedupe key is inserted unless a job of the same type holds its key (job_queue_dedupe_idx),
-- and the result rows say so: one per input job, in input order, whether it was inserted, else the
-- id of the job holding its key and whether that job's uniqueness period has passed (neither: try it
-- again in a new statement). The caller has locked the existing dependencies and computed each
-- job's status from theirs (lock-dependencies.sql). Parameters: :now (null = database clock), then
-- one array per column, named as the column, element i of each describing job i; :payload is JSON
-- text, :run_at null means now + :delay_micros, :unique_states is comma-separated (null = default),
-- :unique_for_micros null means no limit, :trace_context is a JSON object's text or null (V8).
WITH clock AS (SELECT coalesce(CAST(:now AS timestamptz), pg_catalog.statement_timestamp()) AS now),
     input AS (
         SELECT *
           FROM unnest(CAST(:id AS uuid[]),
                       CAST(:job_type AS text[]),
                       CAST(:queue AS text[]),
                       CAST(:payload AS text[]),
                       CAST(:priority AS int[]),
                       CAST(:run_at AS timestamptz[]),
                       CAST(:delay_micros AS bigint[]),
                       CAST(:max_retries AS int[]),
                       CAST(:user_id AS uuid[]),
                       CAST(:trace_context AS text[]),
                       CAST(:dedupe_key AS text[]),
                       CAST(:unique_states AS text[]),
                       CAST(:unique_for_micros AS bigint[]),
                       CAST(:status AS text[]),
                       CAST(:waiting_for AS int[]),
                       CAST(:on_dependency_failure AS text[]),
                       CAST(:has_dependents AS boolean[]),
                       CAST(:partition_key AS text[]),
                       CAST(:error_message AS text[]))
                WITH ORDINALITY
                AS j(id, job_type, queue, payload, priority, run_at, delay_micros, max_retries, user_id, trace_context,
                     dedupe_key, unique_states, unique_for_micros,
                     status, waiting_for, on_dependency_failure, has_dependents, partition_key, error_message, n)),
     inserted AS (
         INSERT INTO {schema}.job_queue (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at,
                                         trace_context,
                                         dedupe_key, unique_states, unique_until,
                                         status, waiting_for, on_dependency_failure, has_dependents, partition_key,
                                         error_message, completed_at)
         SELECT i.id, i.job_type, i.queue, CAST(i.payload AS jsonb), i.priority,
                coalesce(i.run_at, clock.now + CAST(i.delay_micros AS double precision) * interval '1 microsecond'),
                i.max_retries, i.user_id, clock.now,
                CAST(i.trace_context AS jsonb),
                i.dedupe_key, pg_catalog.string_to_array(i.unique_states, CAST(',' AS text)),
                clock.now + CAST(i.unique_for_micros AS double precision) * interval '1 microsecond',
                i.status, i.waiting_for, i.on_dependency_failure, i.has_dependents, i.partition_key,
                i.error_message, CASE WHEN i.status = 'cancelled' THEN clock.now END
           FROM clock, input i
          ORDER BY i.job_type COLLATE "C", i.dedupe_key COLLATE "C"
         ON CONFLICT (job_type, dedupe_key)
            WHERE dedupe_key IS NOT NULL AND status = ANY (coalesce(unique_states, '{pending,processing}'::text[]))
            DO NOTHING
         RETURNING id)
SELECT ins.id IS NOT NULL, held.id, held.unique_until <= (SELECT now FROM clock)
  FROM input i
  LEFT JOIN inserted ins ON ins.id = i.id
  LEFT JOIN LATERAL (
           SELECT h.id, h.unique_until
             FROM {schema}.job_queue h
            WHERE ins.id IS NULL
              AND h.job_type = i.job_type
              AND h.dedupe_key = i.dedupe_key
              AND h.dedupe_key IS NOT NULL
              AND h.status = ANY (coalesce(h.unique_states, '{pending,processing}'::text[]))) held ON true
 ORDER BY i.n
