-- Serialize the claims of limited queues, per limit: a transaction-scoped advisory lock for each
-- key, taken in the order given (sorted by the caller, so that two claims cannot deadlock), held
-- until the claim's transaction ends. Only claims of queues that have a limit take it; the next
-- statement of the transaction counts what runs with a snapshot taken after the locks, so it sees
-- every claim that held them before. Parameter: lock keys (text[]).
SELECT pg_catalog.count(pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(k.key, CAST(0 AS bigint))))
  FROM pg_catalog.unnest(CAST(? AS text[])) WITH ORDINALITY AS k(key, n)
