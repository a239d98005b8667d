-- Record claim policies: for each key (queue, job_type; '*' = the whole queue) the limits given
-- replace the stored ones, those given as null are kept, and fairness can only be turned on (a
-- worker writes what it declares and never lifts what another one set). Parameters: one array per
-- column, named as the column, element i of each describing policy i; :starts_micros is the
-- starts_period in microseconds.
INSERT INTO {schema}.job_queue_policy AS p (queue, job_type, max_running, max_starts, starts_period, fair)
SELECT i.queue, i.job_type, i.max_running, i.max_starts, CAST(i.starts_micros AS double precision) * interval '1 microsecond', coalesce(i.fair, false)
  FROM unnest(CAST(:queue AS text[]), CAST(:job_type AS text[]), CAST(:max_running AS int[]),
              CAST(:max_starts AS int[]), CAST(:starts_micros AS bigint[]), CAST(:fair AS boolean[]))
           AS i(queue, job_type, max_running, max_starts, starts_micros, fair)
 ORDER BY i.queue, i.job_type
ON CONFLICT (queue, job_type) DO UPDATE
   SET max_running = coalesce(EXCLUDED.max_running, p.max_running),
       max_starts = coalesce(EXCLUDED.max_starts, p.max_starts),
       starts_period = coalesce(EXCLUDED.starts_period, p.starts_period),
       fair = p.fair OR EXCLUDED.fair,
       updated_at = pg_catalog.now()
