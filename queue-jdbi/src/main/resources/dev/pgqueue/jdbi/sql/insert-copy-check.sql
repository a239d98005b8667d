-- Whether this session and transaction can stage a bulk enqueue (insert-copy-staging.sql): the role
-- may create temporary tables (PUBLIC may, unless revoked), the transaction is not read-only, and no
-- staging table is left from an earlier call. When not, the jobs take insert-many.sql, so that the
-- enqueue succeeds or fails exactly as it would there. No parameters.
SELECT has_database_privilege(current_database(), 'TEMPORARY')
       AND NOT CAST(current_setting('transaction_read_only') AS boolean)
       AND to_regclass('pg_temp.pgqueue_enqueue_staging') IS NULL
