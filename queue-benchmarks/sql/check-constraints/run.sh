#!/bin/sh
# What job_queue's CHECK constraints cost, and what the variants here would (docs/performance.md, "The
# same checks in a row trigger instead"). Needs psql, pgbench and pgqueue-cli.jar (mvn -pl queue-cli
# -am package -DskipTests); creates and drops schemas checks_v15, checks_if, checks_domains and
# checks_none in the database PGDATABASE names (default: test on 127.0.0.1:5432 as postgres).
# Usage: queue-benchmarks/sql/check-constraints/run.sh [rounds]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=${PGQUEUE_CLI:-$here/../../../queue-cli/target/pgqueue-cli.jar}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-test}
rounds=${1:-3}
variants="v15 if domains none"
for v in $variants; do
    psql -q -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS checks_$v CASCADE"
    java -jar "$cli" --url "jdbc:postgresql://$PGHOST:$PGPORT/$PGDATABASE?user=$PGUSER" --schema "checks_$v" migrate >/dev/null
done
psql -q -v s=checks_if -v when=AFTER -f "$here/variant-if.sql"
psql -q -v s=checks_domains -v when=AFTER -f "$here/variant-domains.sql"
psql -q -v s=checks_none -f "$here/variant-none.sql"
for r in $(seq "$rounds"); do
    for v in $variants; do
        echo "round $r, $v:"
        psql -q -v s="checks_$v" -f "$here/single-row.sql" 2>&1 | sed -n 's/.*NOTICE: *//p'
        psql -q -v s="checks_$v" -f "$here/batches.sql" 2>&1 | sed -n 's/.*NOTICE: *//p'
        psql -q -c "TRUNCATE checks_$v.job_queue"
        printf 'one insert per transaction (pgbench), '
        PGOPTIONS="-c search_path=checks_$v -c synchronous_commit=off" pgbench -n -M prepared -T 8 \
            -f "$here/pgbench-insert.sql" 2>&1 | grep 'latency average'
        psql -q -v s="checks_$v" -f "$here/pgbench-update-setup.sql"
        printf 'one update per transaction (pgbench), '
        PGOPTIONS="-c search_path=checks_$v -c synchronous_commit=off" pgbench -n -M prepared -T 8 \
            -f "$here/pgbench-update.sql" 2>&1 | grep 'latency average'
    done
done
for v in $variants; do psql -q -c "SET client_min_messages = warning; DROP SCHEMA checks_$v CASCADE"; done
