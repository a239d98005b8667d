-- The roles, other than trusted ones, that may CREATE objects in the queue's schema, read once when
-- a store is built: such a role can plant a function or operator there that a statement resolving
-- names through that schema then runs with its caller's rights (PostgreSQL 14's default for the
-- schema public: PUBLIC may). Trusted: superusers, and members of the schema's owner or of
-- job_queue's owner (they could change pgqueue's objects anyway). PUBLIC is reported as PUBLIC.
-- Every operator and function is pg_catalog's by name, so that the check itself cannot be redirected.
-- Parameters: job_queue's qualified name, then the schema's name.
SELECT CASE WHEN a.grantee OPERATOR(pg_catalog.=) CAST(0 AS pg_catalog.oid) THEN 'PUBLIC'
            ELSE pg_catalog.quote_ident(CAST(r.rolname AS pg_catalog.text)) END
  FROM pg_catalog.pg_namespace n
 CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
  LEFT JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(CAST(? AS pg_catalog.text))
 WHERE n.nspname OPERATOR(pg_catalog.=) CAST(? AS pg_catalog.name)
   AND a.privilege_type OPERATOR(pg_catalog.=) CAST('CREATE' AS pg_catalog.text)
   AND (a.grantee OPERATOR(pg_catalog.=) CAST(0 AS pg_catalog.oid)
        OR NOT (r.rolsuper
                OR pg_catalog.pg_has_role(a.grantee, n.nspowner, CAST('MEMBER' AS pg_catalog.text))
                OR (t.oid IS NOT NULL AND pg_catalog.pg_has_role(a.grantee, t.relowner, CAST('MEMBER' AS pg_catalog.text)))))
 ORDER BY 1
