package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.LatestDedupeKeyParams;
import dev.pgqueue.spi.JobStore.LeaseRef;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.NextDueParams;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.ProgressParams;
import dev.pgqueue.spi.JobStore.ProgressUpdate;
import dev.pgqueue.spi.JobStore.PruneParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import dev.pgqueue.spi.JobStore.ReportedProgress;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A role that may CREATE in the queue's schema (PostgreSQL 14's default for {@code public}) defines
 * operators and functions whose argument types match what pgqueue's statements and functions pass
 * more exactly than pg_catalog's own (an exact match wins over one that needs an implicit cast,
 * wherever it is on the search_path). Each records that it ran, in a table and in a sequence (which
 * no rollback undoes), and then returns the right answer, so that nothing else gives it away. The
 * store, its statements and the SQL functions run as the superuser, as a worker often does; none of
 * the attacker's code may run. The role has a unique name and is dropped afterwards.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SearchPathHijackTest {

    private final TestDatabase db;
    private final String schema;
    private final String attacker = "pgq_hijack_" + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private JdbiJobStore store;

    SearchPathHijackTest(TestDatabase db) {
        this.db = db;
        this.schema = db.schema();
    }

    @BeforeAll
    void attackerPlantsOperatorsAndFunctions() throws SQLException {
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(schema).build(); // migrated before the attack
        db.execute("CREATE ROLE " + attacker + " NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE");
        db.execute("GRANT USAGE, CREATE ON SCHEMA " + schema + " TO PUBLIC"); // PostgreSQL 14's public
        db.execute("CREATE TABLE hijack_log (what text)");
        db.execute("CREATE SEQUENCE hijack_seq");
        db.execute("GRANT INSERT ON hijack_log TO PUBLIC");
        db.execute("GRANT USAGE, UPDATE ON SEQUENCE hijack_seq TO PUBLIC");

        List<String> plant = new ArrayList<>();
        // Operators: name, left, right, result, the right answer.
        String[][] operators = {
                {"=", "text", "varchar", "boolean", "$1 OPERATOR(pg_catalog.=) CAST($2 AS text)"},
                {"=", "varchar", "text", "boolean", "CAST($1 AS text) OPERATOR(pg_catalog.=) $2"},
                {"<>", "text", "varchar", "boolean", "$1 OPERATOR(pg_catalog.<>) CAST($2 AS text)"},
                {"=", "uuid", "text", "boolean", "CAST($1 AS text) OPERATOR(pg_catalog.=) $2"},
                {"=", "text", "uuid", "boolean", "$1 OPERATOR(pg_catalog.=) CAST($2 AS text)"},
                {"=", "uuid", "varchar", "boolean", "CAST($1 AS text) OPERATOR(pg_catalog.=) CAST($2 AS text)"},
                {"=", "name", "varchar", "boolean", "$1 OPERATOR(pg_catalog.=) CAST($2 AS name)"},
                {"*", "bigint", "interval", "interval", "CAST($1 AS double precision) OPERATOR(pg_catalog.*) $2"},
                {"*", "integer", "interval", "interval", "CAST($1 AS double precision) OPERATOR(pg_catalog.*) $2"},
                {"*", "numeric", "integer", "numeric", "$1 OPERATOR(pg_catalog.*) CAST($2 AS numeric)"},
                {"/", "integer", "numeric", "numeric", "CAST($1 AS numeric) OPERATOR(pg_catalog./) $2"},
                {"||", "text", "uuid", "text", "$1 OPERATOR(pg_catalog.||) CAST($2 AS text)"},
                {"||", "text", "name", "text", "$1 OPERATOR(pg_catalog.||) CAST($2 AS text)"},
                {"<@", "text[]", "text[]", "boolean", "$1 OPERATOR(pg_catalog.<@) $2"},
                {"+", "double precision", "numeric", "double precision", "$1 OPERATOR(pg_catalog.+) CAST($2 AS double precision)"},
        };
        int n = 0;
        for (String[] op : operators) {
            String fn = "hijack_op_" + (++n);
            plant.add(function(fn, "$1 " + op[1] + ", $2 " + op[2], op[3], "RETURN " + op[4] + ";",
                    "operator " + op[0] + "(" + op[1] + ", " + op[2] + ")")
                    .replace("$1 " + op[1] + ", $2 " + op[2], "a " + op[1] + ", b " + op[2]));
            plant.add("CREATE OPERATOR " + schema + "." + op[0] + " (LEFTARG = " + op[1] + ", RIGHTARG = " + op[2]
                    + ", FUNCTION = " + schema + "." + fn + ")");
        }
        // Functions: name, arguments, result, body.
        String[][] functions = {
                {"set_bit", "a bytea, b integer, c integer", "bytea", "RETURN pg_catalog.set_bit(a, CAST(b AS bigint), c);"},
                {"hashtext", "a varchar", "integer", "RETURN pg_catalog.hashtext(CAST(a AS text));"},
                {"hashtextextended", "a text, b integer", "bigint", "RETURN pg_catalog.hashtextextended(a, CAST(b AS bigint));"},
                {"starts_with", "a text, b varchar", "boolean", "RETURN pg_catalog.starts_with(a, CAST(b AS text));"},
                {"octet_length", "a name", "integer", "RETURN pg_catalog.octet_length(CAST(a AS text));"},
                {"md5", "a name", "text", "RETURN pg_catalog.md5(CAST(a AS text));"},
                {"has_database_privilege", "a name, b text", "boolean", "RETURN pg_catalog.has_database_privilege(CAST(a AS text), b);"},
                {"to_regclass", "a varchar", "regclass", "RETURN pg_catalog.to_regclass(CAST(a AS text));"},
                {"format", "f text, a timestamptz, b text, c integer", "text", "RETURN pg_catalog.format(f, a, b, c);"},
                {"format", "f text, a text, b uuid, c text", "text", "RETURN pg_catalog.format(f, a, b, c);"},
                {"format", "f text, a integer, b integer", "text", "RETURN pg_catalog.format(f, a, b);"},
                {"cardinality", "a uuid[]", "integer", "RETURN pg_catalog.cardinality(a);"},
                {"array_position", "a uuid[], b uuid", "integer", "RETURN pg_catalog.array_position(a, b);"},
                {"unnest", "a uuid[]", "SETOF uuid", "RETURN QUERY SELECT pg_catalog.unnest(a);"},
                {"unnest", "a text[]", "SETOF text", "RETURN QUERY SELECT pg_catalog.unnest(a);"},
                {"unnest", "a integer[]", "SETOF integer", "RETURN QUERY SELECT pg_catalog.unnest(a);"},
                {"unnest", "a bigint[]", "SETOF bigint", "RETURN QUERY SELECT pg_catalog.unnest(a);"},
                {"unnest", "a boolean[]", "SETOF boolean", "RETURN QUERY SELECT pg_catalog.unnest(a);"},
                {"unnest", "a timestamptz[]", "SETOF timestamptz", "RETURN QUERY SELECT pg_catalog.unnest(a);"},
                {"string_to_array", "a text, b varchar", "text[]", "RETURN pg_catalog.string_to_array(a, CAST(b AS text));"},
                {"pg_notify", "a text, b varchar", "void", "PERFORM pg_catalog.pg_notify(a, CAST(b AS text));"},
                {"now", "", "timestamptz", "RETURN pg_catalog.now();"},
                {"statement_timestamp", "", "timestamptz", "RETURN pg_catalog.statement_timestamp();"},
                {"octet_length", "a varchar", "integer", "RETURN pg_catalog.octet_length(CAST(a AS text));"},
                {"ceil", "a integer", "numeric", "RETURN pg_catalog.ceil(CAST(a AS numeric));"},
                {"pg_sleep", "a numeric", "void", "PERFORM pg_catalog.pg_sleep(CAST(a AS double precision));"},
        };
        for (String[] f : functions) {
            plant.add(function(f[0], f[1], f[2], f[3], f[0] + "(" + f[1] + ")"));
        }
        // Aggregates whose argument is exact where pg_catalog's is polymorphic.
        plant.add(function("hijack_agg_uuid", "s uuid[], v uuid", "uuid[]", "RETURN pg_catalog.array_append(s, v);",
                "array_agg(uuid)"));
        plant.add("CREATE AGGREGATE " + schema + ".array_agg(uuid) (SFUNC = " + schema + ".hijack_agg_uuid, STYPE = uuid[])");
        plant.add(function("hijack_agg_text", "s text[], v text", "text[]", "RETURN pg_catalog.array_append(s, v);",
                "array_agg(text)"));
        plant.add("CREATE AGGREGATE " + schema + ".array_agg(text) (SFUNC = " + schema + ".hijack_agg_text, STYPE = text[])");

        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET ROLE " + attacker);
            for (String sql : plant) {
                st.execute(sql);
            }
            st.execute("RESET ROLE");
        }
        // Built after the attack: its start (migration check, advisory lock) runs among the decoys too.
        store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(schema).copyThreshold(3).build();
    }

    private String function(String name, String args, String returns, String body, String label) {
        return "CREATE FUNCTION " + schema + "." + name + "(" + args + ") RETURNS " + returns
                + " LANGUAGE plpgsql AS $f$ BEGIN"
                + " PERFORM pg_catalog.nextval('" + schema + ".hijack_seq');"
                + " INSERT INTO " + schema + ".hijack_log VALUES ('" + label + "');"
                + " " + body + " END $f$";
    }

    @AfterAll
    void dropAttacker() {
        db.execute("DROP OWNED BY " + attacker + " CASCADE");
        db.execute("DROP ROLE " + attacker);
        db.execute("REVOKE CREATE ON SCHEMA " + schema + " FROM PUBLIC");
    }

    @BeforeEach
    void cleanSlate() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_policy");
        db.execute("DELETE FROM hijack_log");
        db.execute("SELECT setval('hijack_seq', 1, false)");
    }

    private void assertNoAttackerCodeRan() {
        List<Map<String, Object>> ran = db.queryForList("SELECT DISTINCT what FROM hijack_log ORDER BY what");
        assertThat(ran).as("the attacker's operators and functions that ran").isEmpty();
        assertThat(db.queryForLong("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM hijack_seq"))
                .as("calls of the attacker's code, rolled back ones included").isZero();
    }

    private static NewJob job(String type, String queue) {
        return NewJob.builder(UuidV7.next(), type, "{\"n\": 1}").queue(queue).build();
    }

    @Test
    void enqueue_fromJavaAndSql_runsNoCodeOfAnotherRole() {
        UUID userId = UUID.randomUUID();
        store.jobInsertMany(new InsertParams(List.of(job("one", "default")), null));
        store.jobInsertMany(new InsertParams(List.of(job("many", "default"), job("many", "default")), null));
        store.jobInsertMany(new InsertParams(List.of(job("copy", "default"), job("copy", "default"),
                job("copy", "default"), job("copy", "default")), Instant.now()));
        NewJob unique = NewJob.builder(UuidV7.next(), "unique", "{}").userId(userId).dedupeKey("key:1")
                .uniqueStates(Set.of(JobStatus.PENDING)).uniqueFor(Duration.ofHours(1)).build();
        store.jobInsertMany(new InsertParams(List.of(unique), null));
        store.jobInsertMany(new InsertParams(List.of(NewJob.builder(UuidV7.next(), "unique", "{}").userId(userId)
                .dedupeKey("key:1").uniqueStates(Set.of(JobStatus.PENDING)).uniqueFor(Duration.ofHours(1)).build()), null));
        store.jobInsertMany(new InsertParams(List.of(NewJob.builder(UuidV7.next(), "after", "{}")
                .delay(Duration.ofSeconds(1)).dependsOn(List.of(unique.id())).partitionKey("tenant-a").build()), null));
        store.jobLatestDedupeKey(new LatestDedupeKeyParams("unique", "key:"));

        db.queryForList("SELECT job_queue_enqueue('sql', '{\"a\": 1}')");
        db.queryForList("SELECT job_queue_enqueue('sql', '{\"a\": 1}', queue => 'q1', priority => 2,"
                + " run_at => now(), max_retries => 1, user_id => gen_random_uuid())");
        db.queryForList("SELECT job_queue_enqueue('sql-unique', '{}', dedupe_key => 'k', unique_for => interval '1 hour')");
        db.queryForList("SELECT * FROM job_queue_enqueue_unique('sql-unique', '{}', dedupe_key => 'k',"
                + " unique_states => ARRAY['pending', 'processing'])");
        db.queryForList("SELECT job_queue_enqueue_after(ARRAY[?]::uuid[], 'sql-after', '{}', partition_key => 'p')",
                unique.id());
        db.execute("INSERT INTO job_queue (job_type, payload, user_id) VALUES ('seed', '{}', gen_random_uuid())");

        assertThat(db.queryForLong("SELECT count(*) FROM job_queue")).isEqualTo(14);
        assertNoAttackerCodeRan();
    }

    @Test
    void workerAndProducerOperations_runNoCodeOfAnotherRole() {
        List<NewJob> jobs = new ArrayList<>();
        for (int k = 0; k < 8; k++) {
            jobs.add(job("work", "default"));
        }
        store.jobInsertMany(new InsertParams(jobs, null));
        UUID token = UUID.randomUUID();
        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", Set.of("work"), 7, "worker-1", token,
                Duration.ofMinutes(5), null));
        assertThat(claimed).hasSize(7);
        store.jobProgressMany(new ProgressParams(List.of(new ProgressUpdate(claimed.get(0).id(), token,
                new ReportedProgress(50, "half"))), null));
        store.jobExtendLeaseMany(new ExtendLeaseParams(claimed.stream().map(j -> new LeaseRef(j.id(), token)).toList(),
                Duration.ofMinutes(5), null));
        store.jobFinishMany(new FinishParams(List.of(
                new Finish(claimed.get(0).id(), token, FinishKind.COMPLETE, null, null, "{\"ok\": true}",
                        new ReportedProgress(100, "done")),
                new Finish(claimed.get(1).id(), token, FinishKind.RETRY, "boom", Duration.ofSeconds(1)),
                new Finish(claimed.get(2).id(), token, FinishKind.FAIL, "fatal", null),
                new Finish(claimed.get(3).id(), token, FinishKind.SNOOZE, null, Duration.ofSeconds(1)),
                new Finish(claimed.get(4).id(), token, FinishKind.CANCEL, "cancelled", null),
                new Finish(claimed.get(5).id(), token, FinishKind.RELEASE, null, null)), null));
        store.jobCancel(new CancelParams(claimed.get(6).id(), null)); // processing: requested, NOTIFY
        store.jobCancel(new CancelParams(jobs.get(7).id(), null)); // pending: cancelled
        Instant later = Instant.now().plus(Duration.ofDays(30));
        store.jobRescue(new RescueParams(10, later));
        store.jobPrune(new PruneParams(Set.of(JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED),
                Duration.ofDays(1), 100, later.plus(Duration.ofDays(30))));
        store.jobGet(claimed.get(1).id());
        store.jobDependencies(claimed.get(1).id());
        store.jobNextDue(new NextDueParams("default", Set.of("work"), null));
        store.jobTableHealth();

        // Limits and fairness: the limited claim, the fair claim, their policies.
        store.policyPutMany(new PolicyParams(List.of(
                new QueuePolicy("limited", "*", 5, 100, Duration.ofMinutes(1), false),
                new QueuePolicy("fair", "*", null, null, null, true))));
        store.policyList();
        List<NewJob> more = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            more.add(job("work", "limited"));
            more.add(NewJob.builder(UuidV7.next(), "work", "{}").queue("fair").userId(UUID.randomUUID()).build());
        }
        store.jobInsertMany(new InsertParams(more, null));
        assertThat(store.jobClaim(new ClaimParams("limited", Set.of("work"), 4, "worker-1", UUID.randomUUID(),
                Duration.ofMinutes(5), null))).hasSize(4);
        assertThat(store.jobClaim(new ClaimParams("fair", Set.of("work"), 4, "worker-1", UUID.randomUUID(),
                Duration.ofMinutes(5), null))).hasSize(4);

        assertNoAttackerCodeRan();
    }

    /** The claims and sweeps of a store whose claims a held-back xmin horizon bounds (issue 18). */
    @Test
    void boundedClaimsAndTheirSweeps_runNoCodeOfAnotherRole() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                new BoundedClaims(schema, () -> {}, () -> {}).run(c);
            } finally {
                c.rollback();
            }
        }
        assertNoAttackerCodeRan();
    }

    @Test
    void adminOperations_runNoCodeOfAnotherRole() {
        List<NewJob> jobs = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            jobs.add(job("admin", "default"));
        }
        store.jobInsertMany(new InsertParams(jobs, null));
        UUID token = UUID.randomUUID();
        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", Set.of("admin"), 3, "worker-1", token,
                Duration.ofMinutes(5), null));
        store.jobFinishMany(new FinishParams(claimed.stream()
                .map(j -> new Finish(j.id(), token, FinishKind.FAIL, "fatal\nstack", null)).toList(), null));
        dev.pgqueue.admin.JobFilter all = dev.pgqueue.admin.JobFilter.all();
        JdbiJobAdmin admin = JdbiJobAdmin.create(store);

        admin.find(dev.pgqueue.admin.JobFilter.builder().statuses(JobStatus.FAILED).queues("default").types("admin")
                .errorContains("fat").errorFirstLine("fatal").dedupeKeyPrefix("x").userId(UUID.randomUUID())
                .created(Instant.EPOCH, null).finished(Instant.EPOCH, null).build(), dev.pgqueue.admin.Page.newestFirst(10));
        String cursor = admin.find(all, dev.pgqueue.admin.Page.newestFirst(1)).nextCursor();
        admin.find(all, dev.pgqueue.admin.Page.newestFirst(1).after(cursor));
        admin.count(all);
        admin.job(claimed.get(0).id());
        admin.failureGroups(all, 10);
        admin.queueStats();
        admin.retryWithPayload(claimed.get(0).id(), "{\"edited\": true}", "fixed");
        admin.retry(all);
        admin.runNow(all);
        admin.changePriority(all, 3);
        admin.cancel(all);
        admin.delete(all);

        assertNoAttackerCodeRan();
    }

    @Test
    void workflowRelease_andFailureCascade_runNoCodeOfAnotherRole() {
        NewJob first = job("first", "default");
        NewJob second = job("second", "default");
        store.jobInsertMany(new InsertParams(List.of(first, second), null));
        UUID dependent = UUID.fromString(String.valueOf(db.queryForList(
                "SELECT job_queue_enqueue_after(ARRAY[?, ?]::uuid[], 'after', '{}') AS id", first.id(), second.id())
                .get(0).get("id")));
        db.queryForList("SELECT job_queue_enqueue_after(ARRAY[?]::uuid[], 'after-after', '{}')", dependent);
        UUID token = UUID.randomUUID();
        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", Set.of("first", "second"), 2, "w", token,
                Duration.ofMinutes(5), null));
        assertThat(claimed).hasSize(2);
        store.jobFinishMany(new FinishParams(List.of(
                new Finish(first.id(), token, FinishKind.COMPLETE, null, null),
                new Finish(second.id(), token, FinishKind.FAIL, "fatal", null)), null));
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'cancelled'")).isEqualTo(2);
        db.execute("DELETE FROM job_queue");

        assertNoAttackerCodeRan();
    }
}
