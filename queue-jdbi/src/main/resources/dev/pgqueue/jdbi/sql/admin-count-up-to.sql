-- JdbiJobAdmin.countUpTo: how many jobs a filter matches, reading no more than the limit + 1 matches.
-- {filter}: JdbiJobAdmin's conditions, every value bound. Parameters: the filter's, the limit + 1.
SELECT pg_catalog.count(*) FROM (SELECT 1 FROM {schema}.job_queue j WHERE {filter} LIMIT CAST(? AS bigint)) m
