-- Whether this session and transaction can stage a bulk enqueue (insert-copy-staging.sql): the role
-- may create temporary tables (PUBLIC may, unless revoked), the transaction is not read-only, and no
-- staging table is left from an earlier call. When not, the jobs take insert-many.sql, so that the
-- enqueue succeeds or fails exactly as it would there. No parameters.
SELECT pg_catalog.has_database_privilege(CAST(pg_catalog.current_database() AS text), CAST('TEMPORARY' AS text))
       AND NOT CAST(pg_catalog.current_setting(CAST('transaction_read_only' AS text)) AS boolean)
       AND pg_catalog.to_regclass(CAST('pg_temp.pgqueue_enqueue_staging' AS text)) IS NULL
