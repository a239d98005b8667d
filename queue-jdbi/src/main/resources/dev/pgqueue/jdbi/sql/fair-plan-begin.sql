-- Sent before each of the fair statements (claim-fair.sql with its keys' fragment, claim-fair-sweep.sql),
-- in the same call and the same transaction (QueuePolicies gives an autocommit call a transaction of its
-- own): sorting off and JIT off for the rest of the transaction, with the values they had kept in
-- pgqueue.enable_sort and pgqueue.jit for fair-plan-end.sql, sent after the statement, to put back.
-- Why: those statements are written for job_queue_fair_idx, each scan of it ordered by the key first (one
-- key's jobs are matched as a range, >= and <=: with = the planner drops the key from the order, which
-- the claim index then gives too). Only that index gives the order without a sort, so with sorting off
-- no plan can scan job_queue_claim_idx instead. The
-- planner otherwise may, and did: after an ANALYZE that found few or no pending jobs, it estimates one
-- row for each scan, and the claim index is the smaller, so every scan walked the queue's whole claim
-- index, dead entries and all (docs/fairness.md, "Why: the fair claim's plan"). JIT goes off with it:
-- the sorts no plan avoids (by round, by key) cost the plan past jit_above_cost with sorting off.
-- The subquery (OFFSET 0 keeps it one) saves the values before the outer SELECT changes them.
SELECT pg_catalog.set_config('enable_sort', 'off', true) = 'off' AND pg_catalog.set_config('jit', 'off', true) = 'off'
  FROM (SELECT pg_catalog.set_config('pgqueue.enable_sort', pg_catalog.current_setting('enable_sort'), true),
               pg_catalog.set_config('pgqueue.jit', pg_catalog.current_setting('jit'), true)
        OFFSET 0) saved
