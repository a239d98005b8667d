-- The roles other than its owner that may CREATE in the queue's schema ('PUBLIC' for every role), in
-- name order: any of them could define operators and functions there (pgqueue's statements and
-- functions are written so that none of those is ever picked, but such a grant is worth knowing).
-- Superusers may always, and are not listed. Parameter: the schema's name.
SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee
  FROM pg_catalog.pg_namespace n,
       pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault(CAST('n' AS "char"), n.nspowner))) a
 WHERE n.nspname = CAST(? AS name)
   AND a.privilege_type = 'CREATE'
   AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
 ORDER BY 1
