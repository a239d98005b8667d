-- Whether row-level security applies to the current role on job_queue, i.e. whether a job may exist
-- that this role's statements cannot see (then an enqueue whose dedupe key conflicts with no visible
-- job finds its key held by such a job). No parameters.
SELECT pg_catalog.row_security_active(CAST('{schema}.job_queue' AS pg_catalog.regclass))
