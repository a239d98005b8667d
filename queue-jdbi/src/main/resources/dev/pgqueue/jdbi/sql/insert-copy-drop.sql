-- Drop the staging table of a bulk enqueue once insert-copied.sql has moved its rows, so that a
-- second bulk enqueue in the same transaction can stage its own. No parameters.
DROP TABLE pg_temp.pgqueue_enqueue_staging
