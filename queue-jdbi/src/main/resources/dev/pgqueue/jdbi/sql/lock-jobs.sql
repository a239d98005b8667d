-- Lock the given jobs' rows in id order, for a transaction that will update them in several
-- statements: whoever locks rows in one global order cannot deadlock with another who does.
-- Parameter: ids (uuid[]).
SELECT id
  FROM {schema}.job_queue
 WHERE id = ANY (CAST(? AS uuid[]))
 ORDER BY id
   FOR NO KEY UPDATE
