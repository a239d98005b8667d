-- Record that jobs wait for others (job_queue_dependency), once the jobs are inserted and their
-- existing dependencies locked (lock-dependencies.sql); and mark the dependencies that are not
-- finished as having dependents, so that finishing them runs job_queue_resolve_dependents.
-- Parameters: job ids (uuid[]), the ids they depend on (uuid[]), pairwise.
WITH edge AS (SELECT * FROM unnest(CAST(? AS uuid[]), CAST(? AS uuid[])) AS e(job_id, depends_on)),
     flagged AS (
         UPDATE {schema}.job_queue j
            SET has_dependents = true
          WHERE j.id IN (SELECT depends_on FROM edge)
            AND j.status IN ('waiting', 'pending', 'processing')
            AND j.has_dependents IS NOT TRUE)
INSERT INTO {schema}.job_queue_dependency (job_id, depends_on)
SELECT job_id, depends_on FROM edge
