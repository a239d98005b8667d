-- Fill the staging table (insert-copy-staging.sql) from the client, in COPY's binary format: every
-- value is sent as its length and bytes, so no payload character needs escaping. One row per job,
-- the staging table's columns in order; NULL user_id and run_at are NULLs. No parameters.
COPY pg_temp.pgqueue_enqueue_staging FROM STDIN (FORMAT binary)
