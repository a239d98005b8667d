-- Record a worker in the registry (V7), or replace its record (it registers again after its record
-- was deleted during a long stall, or after a resize); started_at is kept from the first record.
-- Uses job_queue_worker_pkey. Parameters: now (null = database clock), id, host, pid, queues (jsonb),
-- job types (text[]), recurring (jsonb), version, presence interval in microseconds.
WITH clock AS (SELECT coalesce(CAST(? AS timestamptz), pg_catalog.statement_timestamp()) AS now)
INSERT INTO {schema}.job_queue_worker AS w (id, host, pid, queues, job_types, recurring, version, started_at,
                                            last_heartbeat, running, presence_interval)
SELECT CAST(? AS text), CAST(? AS text), CAST(? AS bigint), CAST(? AS jsonb), CAST(? AS text[]), CAST(? AS jsonb),
       CAST(? AS text), clock.now, clock.now, 0, CAST(? AS double precision) * interval '1 microsecond'
  FROM clock
ON CONFLICT ON CONSTRAINT job_queue_worker_pkey DO UPDATE
   SET host = EXCLUDED.host, pid = EXCLUDED.pid, queues = EXCLUDED.queues, job_types = EXCLUDED.job_types,
       recurring = EXCLUDED.recurring, version = EXCLUDED.version, last_heartbeat = EXCLUDED.last_heartbeat,
       presence_interval = EXCLUDED.presence_interval
