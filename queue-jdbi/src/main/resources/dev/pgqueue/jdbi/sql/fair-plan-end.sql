-- Sent after a fair statement in the same call: sorting and JIT back to what fair-plan-begin.sql found,
-- for whatever else the transaction runs (a limited queue's claim goes on; a bound store's caller's
-- transaction goes on after the claim). Returns a boolean: a reply pgjdbc can bound.
SELECT pg_catalog.set_config('enable_sort', pg_catalog.current_setting('pgqueue.enable_sort'), true) IS NOT NULL
   AND pg_catalog.set_config('jit', pg_catalog.current_setting('pgqueue.jit'), true) IS NOT NULL
