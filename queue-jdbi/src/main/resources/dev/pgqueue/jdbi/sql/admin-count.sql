-- JdbiJobAdmin.count: how many jobs a filter matches, exactly. {filter}: JdbiJobAdmin's conditions,
-- every value in them bound. Parameters: the filter's.
SELECT pg_catalog.count(*) FROM {schema}.job_queue j WHERE {filter}
