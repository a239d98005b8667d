-- Live and dead rows of job_queue, how many row versions its writes may have made dead so far: every
-- update and delete makes one, an insert one if its transaction rolls back (an upper bound, as a running
-- count: the difference of two readings is what was made in between, at most), rows inserted since
-- vacuum last ran on it, when vacuum last finished on it, and the oldest transaction that holds a snapshot or a transaction id (either holds
-- back what vacuum may remove), if this role may see it: other roles' sessions show neither without
-- pg_read_all_stats. Only this database's sessions hold back vacuum of its tables (replication slots
-- and prepared transactions can too, unseen here). No parameters.
SELECT s.n_live_tup,
       s.n_dead_tup,
       s.n_tup_ins + s.n_tup_upd + s.n_tup_del,
       s.n_ins_since_vacuum,
       greatest(s.last_autovacuum, s.last_vacuum),
       h.pid,
       h.usename,
       h.application_name,
       h.state,
       CAST(extract(epoch FROM pg_catalog.clock_timestamp() - h.xact_start) * CAST(1000 AS numeric) AS bigint)
  FROM pg_catalog.pg_stat_user_tables s
  LEFT JOIN LATERAL (SELECT a.pid, a.usename, a.application_name, a.state, a.xact_start
                       FROM pg_catalog.pg_stat_activity a
                      WHERE (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
                        AND a.xact_start IS NOT NULL
                        AND a.pid <> pg_catalog.pg_backend_pid()
                        AND a.datname = pg_catalog.current_database()
                        AND a.backend_type = 'client backend'
                      ORDER BY a.xact_start
                      LIMIT 1) h ON true
 WHERE s.relid = CAST('{schema}.job_queue' AS regclass)
