package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The optional least-privilege setup ({@code db/pgqueue/optional/roles.sql}): the whole library runs
 * without a superuser (migrations as a plain owner role, producers and a worker as the script's
 * roles), and a producer cannot read others' jobs, change a status, drop anything, or redirect a
 * function through its search_path. Roles are cluster-wide, so this test's have unique names and
 * are dropped afterwards.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeastPrivilegeTest {

    record Work(String secret) {}

    static final JobType<Work> WORK = JobType.of("work", Work.class);

    private final TestDatabase db;
    private final String suffix = UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private final String owner = "pgq_owner_" + suffix;
    private final String producerGroup = "pgq_producer_" + suffix;
    private final String workerGroup = "pgq_worker_" + suffix;
    private final String alice = "pgq_alice_" + suffix;
    private final String bob = "pgq_bob_" + suffix;
    private final String workerLogin = "pgq_w_" + suffix;
    private final String schema = "pgq_lp_" + suffix;
    private final String evil = "pgq_evil_" + suffix;
    private final RolePools roles;

    LeastPrivilegeTest(TestDatabase db) {
        this.db = db;
        this.roles = new RolePools(db);
    }

    @BeforeAll
    void createRolesAndSchema() throws SQLException {
        for (String role : List.of(owner, producerGroup, workerGroup, alice, bob, workerLogin)) {
            db.execute("CREATE ROLE " + role + " NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE");
        }
        db.execute("GRANT " + producerGroup + " TO " + alice + ", " + bob);
        db.execute("GRANT " + workerGroup + " TO " + workerLogin);
        db.execute("CREATE SCHEMA " + schema + " AUTHORIZATION " + owner);
        db.execute("CREATE SCHEMA " + evil + " AUTHORIZATION " + bob);

        // The owner, a plain role, migrates and runs the roles script.
        Jdbi asOwner = roles.jdbi(owner);
        JdbiJobStore.builder(asOwner).schema(schema).build();
        String script = SqlFiles.read("/db/pgqueue/optional/roles.sql")
                .replace("pgqueue_producer", producerGroup)
                .replace("pgqueue_worker", workerGroup);
        asOwner.useHandle(h -> {
            try (Statement st = h.getConnection().createStatement()) {
                st.execute("SET search_path = " + schema);
                st.execute(script);
                st.execute(script); // idempotent
                st.execute("RESET search_path");
            }
        });
    }

    @AfterAll
    void dropRoles() {
        roles.close();
        db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        db.execute("DROP SCHEMA IF EXISTS " + evil + " CASCADE");
        for (String role : List.of(alice, bob, workerLogin, producerGroup, workerGroup, owner)) {
            db.execute("DROP OWNED BY " + role + " CASCADE");
            db.execute("DROP ROLE " + role);
        }
    }



    /** Runs {@code sql} as {@code role} in a transaction that is rolled back. */
    private void as(String role, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute("SET LOCAL ROLE " + role);
                st.execute("SET LOCAL search_path = " + schema);
                st.execute(sql);
            } finally {
                c.rollback();
            }
        }
    }

    /** Runs {@code setup} as the connecting superuser, then {@code sql} as {@code role}, in one rolled-back transaction. */
    private void as(String role, String setup, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute(setup);
                st.execute("RESET ROLE");
                st.execute("SET LOCAL ROLE " + role);
                st.execute("SET LOCAL search_path = " + schema);
                st.execute(sql);
            } finally {
                c.rollback();
            }
        }
    }

    private long countAsAfter(String role, String setup, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute(setup);
                st.execute("RESET ROLE");
                st.execute("SET LOCAL ROLE " + role);
                st.execute("SET LOCAL search_path = " + schema);
                try (ResultSet rs = st.executeQuery(sql)) {
                    rs.next();
                    return rs.getLong(1);
                }
            } finally {
                c.rollback();
            }
        }
    }

    private long countAs(String role, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute("SET LOCAL ROLE " + role);
                st.execute("SET LOCAL search_path = " + schema);
                try (ResultSet rs = st.executeQuery(sql)) {
                    rs.next();
                    return rs.getLong(1);
                }
            } finally {
                c.rollback();
            }
        }
    }

    @Test
    void noRoleIsASuperuser() {
        assertThat(db.queryForLong("SELECT count(*) FROM pg_roles WHERE rolname IN (?, ?, ?, ?, ?, ?) AND (rolsuper OR rolbypassrls)",
                owner, producerGroup, workerGroup, alice, bob, workerLogin)).isZero();
    }

    @Test
    void producersEnqueueAndAWorkerRunsEverything_withoutASuperuser() {
        JdbiJobStore aliceStore = roles.store(alice, schema);
        UUID fromJava = JdbiJobQueue.create(aliceStore).enqueue(WORK, new Work("alice-java"));
        UUID fromSql = roles.jdbi(bob).withHandle(h -> h.createQuery(
                "SELECT " + schema + ".job_queue_enqueue('work', '{\"secret\": \"bob-sql\"}')").mapTo(UUID.class).one());

        JdbiJobStore workerStore = roles.store(workerLogin, schema);
        Worker worker = Worker.builder(workerStore).pollInterval(Duration.ofMillis(100))
                .retention(dev.pgqueue.JobStatus.COMPLETED, Duration.ofDays(1))
                .handler(WORK, (job, context) -> JobOutcome.done()).build();
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(15)).until(() -> db.queryForLong(
                    "SELECT count(*) FROM " + schema + ".job_queue WHERE id IN (?, ?) AND status = 'completed'", fromJava, fromSql) == 2);
        } finally {
            worker.close();
        }
        assertThat(db.queryForList("SELECT enqueued_by FROM " + schema + ".job_queue WHERE id IN (?, ?) ORDER BY enqueued_by",
                fromJava, fromSql)).extracting(r -> r.get("enqueued_by")).containsExactly(alice, bob);
    }

    @Test
    void aWorkerRole_runsTheAdminOperations_aProducerCannot() {
        JdbiJobStore aliceStore = roles.store(alice, schema);
        UUID id = JdbiJobQueue.create(aliceStore).enqueue(WORK, new Work("alice-admin"));
        db.execute("UPDATE " + schema + ".job_queue SET status = 'failed', completed_at = now() WHERE id = ?", id);
        dev.pgqueue.admin.JobFilter job = dev.pgqueue.admin.JobFilter.ids(id);

        JdbiJobAdmin asProducer = JdbiJobAdmin.create(aliceStore);
        assertThatThrownBy(() -> asProducer.retry(job)).hasMessageContaining("permission denied");
        assertThatThrownBy(asProducer::queueStats).hasMessageContaining("permission denied");

        JdbiJobAdmin asWorker = JdbiJobAdmin.create(roles.store(workerLogin, schema));
        assertThat(asWorker.failureGroups(dev.pgqueue.admin.JobFilter.all(), 10)).hasSize(1);
        assertThat(asWorker.retry(job)).isEqualTo(1);
        assertThat(asWorker.queueStats()).isNotEmpty();
        // The estimates of a large table (an exact-count limit of 1 makes any table large) need no more
        // than reading job_queue: EXPLAIN and pg_stats, which shows a role only the columns it may read.
        db.execute("ANALYZE " + schema + ".job_queue");
        JdbiJobAdmin estimating = JdbiJobAdmin.builder(roles.store(workerLogin, schema)).exactCountLimit(1).build();
        assertThat(estimating.queueStats()).isNotEmpty().allSatisfy(q -> assertThat(q.counts().get(dev.pgqueue.JobStatus.COMPLETED).accuracy())
                .isEqualTo(dev.pgqueue.admin.JobCount.Accuracy.ESTIMATE));
        assertThat(asWorker.cancel(job)).isEqualTo(1);
        assertThat(asWorker.delete(job)).isEqualTo(1);
    }

    @Test
    void aProducer_bulkEnqueuesThroughCopy_underRowLevelSecurity() {
        CopyInsertTest.CopyCounter copies = new CopyInsertTest.CopyCounter();
        JdbiJobStore aliceStore = JdbiJobStore.builder(Jdbi.create(copies.counting(roles.pool(alice)))).schema(schema)
                .migrate(false).build();
        List<Work> work = new ArrayList<>();
        for (int i = 0; i < CopyInsert.DEFAULT_THRESHOLD; i++) {
            work.add(new Work("alice-bulk-" + i));
        }

        List<UUID> ids = JdbiJobQueue.create(aliceStore).enqueueAll(WORK, work, dev.pgqueue.EnqueueOptions.defaults());

        assertThat(copies.count()).as("through COPY: a temporary table needs no grant beyond PUBLIC's").isEqualTo(1);
        assertThat(ids).hasSize(work.size());
        assertThat(db.queryForLong("SELECT count(*) FROM " + schema + ".job_queue WHERE payload->>'secret' LIKE 'alice-bulk-%'"
                + " AND enqueued_by = ? AND status = 'pending'", alice)).isEqualTo(work.size());
        db.execute("DELETE FROM " + schema + ".job_queue WHERE payload->>'secret' LIKE 'alice-bulk-%'");
    }

    @Test
    void aProducer_seesOnlyItsOwnJobs() throws SQLException {
        db.execute("INSERT INTO " + schema + ".job_queue (job_type, payload, enqueued_by) VALUES"
                + " ('work', '{\"secret\": \"alice-1\"}', ?), ('work', '{\"secret\": \"alice-2\"}', ?), ('work', '{\"secret\": \"bob\"}', ?)",
                alice, alice, bob);
        assertThat(countAs(alice, "SELECT count(*) FROM job_queue WHERE payload->>'secret' LIKE 'alice-%'")).isEqualTo(2);
        assertThat(countAs(alice, "SELECT count(*) FROM job_queue WHERE payload->>'secret' = 'bob'")).isZero();
        assertThat(countAs(bob, "SELECT count(*) FROM job_queue WHERE payload->>'secret' LIKE 'alice-%'")).isZero();
        assertThat(countAs(workerLogin, "SELECT count(*) FROM job_queue WHERE payload->>'secret' IN ('alice-1', 'alice-2', 'bob')"))
                .as("the worker sees every job").isEqualTo(3);
        db.execute("DELETE FROM " + schema + ".job_queue WHERE payload->>'secret' IN ('alice-1', 'alice-2', 'bob')");
    }

    @Test
    void aProducer_cannotChangeDeleteOrDropAnything_norForgeAJob() {
        List<String> forbidden = List.of(
                "UPDATE job_queue SET status = 'completed'",
                "UPDATE job_queue SET payload = '{}'",
                "DELETE FROM job_queue",
                "TRUNCATE job_queue",
                "DROP TABLE job_queue",
                "ALTER TABLE job_queue DISABLE ROW LEVEL SECURITY",
                "DROP POLICY job_queue_producer_select ON job_queue",
                "DROP FUNCTION job_queue_enqueue(text, jsonb, text, integer, timestamptz, integer, uuid, text, text[], interval)",
                "CREATE OR REPLACE FUNCTION job_queue_channel() RETURNS text LANGUAGE sql AS 'SELECT ''x'''",
                "INSERT INTO job_queue (job_type, status) VALUES ('work', 'completed')",
                "INSERT INTO job_queue (job_type, enqueued_by) VALUES ('work', '" + alice + "')",
                "INSERT INTO job_queue (job_type, lease_owner) VALUES ('work', 'me')",
                "DELETE FROM pgqueue_schema_history",
                "SELECT * FROM pg_catalog.pg_authid");
        for (String sql : forbidden) {
            assertThatThrownBy(() -> as(bob, sql)).as(sql).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(sql).isIn("42501", "42P01"));
        }
        assertThatThrownBy(() -> as(bob, "INSERT INTO job_queue (job_type, payload) VALUES ('work', "
                + "jsonb_build_object('blob', repeat('x', 2000000)))"))
                .as("the payload limit binds plain inserts too")
                .hasMessageContaining("expected payload to be at most 1048576 bytes of JSON (job_queue_setting.max_payload_bytes)");
        assertThatThrownBy(() -> as(workerLogin, "DROP TABLE job_queue")).hasMessageContaining("must be owner");
    }

    /** Runs {@code sql} as {@code role}, committed if it succeeds; returns the error it raised, or null. */
    private SQLException committedAs(String role, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET ROLE " + role);
            try {
                st.execute("SET search_path = " + schema);
                st.execute(sql);
                return null;
            } catch (SQLException e) {
                return e;
            } finally {
                st.execute("RESET ROLE");
                st.execute("RESET search_path");
            }
        }
    }

    private long jobCount() {
        return db.queryForLong("SELECT count(*) FROM " + schema + ".job_queue");
    }

    @Test
    void aProducer_cannotForgeAJobsPriorityRetriesDueTimeCreationTimeOrTenant() throws SQLException {
        UUID someoneElse = UUID.randomUUID();
        String enqueue = "SELECT job_queue_enqueue('work', '{}', ";
        List<List<String>> forged = List.of(
                List.of("INSERT INTO job_queue (job_type, priority) VALUES ('work', -2147483648)", "expected priority to be between -1000 and 1000"),
                List.of("INSERT INTO job_queue (job_type, priority) VALUES ('work', 1001)", "expected priority to be between -1000 and 1000"),
                List.of(enqueue + "priority => -2147483648)", "expected priority to be between -1000 and 1000"),
                List.of("INSERT INTO job_queue (job_type, max_retries) VALUES ('work', 2147483647)", "expected max_retries to be between 0 and 100"),
                List.of(enqueue + "max_retries => 101)", "expected max_retries to be between 0 and 100"),
                List.of("INSERT INTO job_queue (job_type, run_at) VALUES ('work', '-infinity')", "expected run_at to be at most 1 hour in the past"),
                List.of("INSERT INTO job_queue (job_type, run_at) VALUES ('work', 'infinity')", "expected run_at to be at most 1 hour in the past"),
                List.of("INSERT INTO job_queue (job_type, run_at) VALUES ('work', now() - interval '2 hours')", "expected run_at"),
                List.of("INSERT INTO job_queue (job_type, run_at) VALUES ('work', '9999-01-01')", "expected run_at"),
                List.of(enqueue + "run_at => '-infinity')", "expected run_at"),
                List.of("INSERT INTO job_queue (job_type, created_at) VALUES ('work', '2000-01-01')", "expected created_at to be the time of the insert"),
                List.of("INSERT INTO job_queue (job_type, created_at) VALUES ('work', now() + interval '1 day')", "expected created_at"),
                List.of("INSERT INTO job_queue (job_type, user_id) VALUES ('work', '" + someoneElse + "')",
                        "expected user_id to be one that role " + bob + " may enqueue for"),
                List.of(enqueue + "user_id => '" + someoneElse + "')", "expected user_id to be one that role " + bob));
        long before = jobCount();
        for (List<String> attack : forged) {
            SQLException error = committedAs(bob, attack.get(0));
            assertThat((Throwable) error).as(attack.get(0)).isNotNull();
            assertThat(error.getMessage()).as(attack.get(0)).contains(attack.get(1));
        }
        for (String column : List.of("status", "attempt", "retry_count", "lease_owner", "lease_token", "lease_expires_at",
                "cancel_requested_at", "processed_at", "completed_at", "error_message", "enqueued_by")) {
            String sql = "INSERT INTO job_queue (job_type, " + column + ") VALUES ('work', NULL)";
            SQLException error = committedAs(bob, sql);
            assertThat((Throwable) error).as(sql).isNotNull();
            assertThat(error.getSQLState()).as(column).isEqualTo("42501");
        }
        assertThat(jobCount()).as("nothing was inserted").isEqualTo(before);

        assertThatThrownBy(() -> JdbiJobQueue.create(roles.store(alice, schema))
                .enqueue(WORK, new Work("alice-urgent"), dev.pgqueue.EnqueueOptions.defaults().priority(-5000)))
                .as("pgqueue's Java enqueue is bound too").hasMessageContaining("expected priority to be between -1000 and 1000");
        assertThat(jobCount()).isEqualTo(before);
    }

    @Test
    void aProducer_enqueuesUniqueJobs_inJavaAndSql_withinItsBounds() {
        JdbiJobQueue queue = JdbiJobQueue.create(roles.store(alice, schema));
        dev.pgqueue.EnqueueOptions once = dev.pgqueue.EnqueueOptions.defaults().dedupeKey("alice-once-" + suffix)
                .priority(-1000).maxRetries(100).delay(Duration.ofDays(365));
        dev.pgqueue.EnqueueResult first = queue.enqueueUnique(WORK, new Work("alice-once"), once);
        dev.pgqueue.EnqueueResult again = queue.enqueueUnique(WORK, new Work("alice-once"), once);
        assertThat(first.duplicate()).isFalse();
        assertThat(again.duplicate()).isTrue();
        assertThat(again.jobId()).isEqualTo(first.jobId());
        String bobOnce = "SELECT duplicate FROM " + schema + ".job_queue_enqueue_unique('work', '{}', priority => 1000,"
                + " run_at => now() - interval '59 minutes', dedupe_key => 'bob-once-" + suffix + "')";
        Jdbi asBob = roles.jdbi(bob);
        Boolean firstDuplicate = asBob.withHandle(h -> h.createQuery(bobOnce).mapTo(Boolean.class).one());
        Boolean againDuplicate = asBob.withHandle(h -> h.createQuery(bobOnce).mapTo(Boolean.class).one());
        assertThat(firstDuplicate).isFalse();
        assertThat(againDuplicate).isTrue();
        db.execute("DELETE FROM " + schema + ".job_queue WHERE dedupe_key IN (?, ?)", "alice-once-" + suffix, "bob-once-" + suffix);
    }

    @Test
    void aProducer_setsOnlyTheUserIdsTheOwnerLetsItUse() throws SQLException {
        UUID bobsUser = UUID.randomUUID();
        UUID anyUser = UUID.randomUUID();
        String owners = "SET LOCAL ROLE " + owner + "; SET LOCAL search_path = " + schema + "; ";
        String insert = "INSERT INTO job_queue (job_type, user_id) VALUES ('work', '%s')";
        String bobMay = owners + "INSERT INTO job_queue_producer_user (producer, user_id) VALUES ('" + bob + "', '" + bobsUser + "'); ";
        String allMay = owners + "INSERT INTO job_queue_producer_user (producer) VALUES ('" + producerGroup + "'); ";

        as(bob, bobMay, insert.formatted(bobsUser));
        as(bob, bobMay, "SELECT job_queue_enqueue('work', '{}', user_id => '" + bobsUser + "')");
        assertThatThrownBy(() -> as(bob, bobMay, insert.formatted(anyUser))).hasMessageContaining("expected user_id");
        assertThatThrownBy(() -> as(alice, bobMay, insert.formatted(bobsUser))).as("bob's user is not alice's")
                .hasMessageContaining("expected user_id to be one that role " + alice + " may enqueue for");
        as(alice, allMay, insert.formatted(anyUser));
        as(bob, allMay, insert.formatted(bobsUser));
        assertThat(countAsAfter(alice, bobMay, "SELECT count(*) FROM job_queue_producer_user")).as("a producer sees only its own rows").isZero();
        as(workerLogin, "INSERT INTO job_queue (job_type, user_id, priority) VALUES ('work', '" + anyUser + "', -5000)");
    }

    @Test
    void aProducer_cannotRedirectTheFunctionsThroughItsSearchPath() throws SQLException {
        String decoys = String.join(";\n",
                "CREATE TABLE " + evil + ".job_queue (LIKE " + schema + ".job_queue)",
                "CREATE TABLE " + evil + ".called (what text)",
                "CREATE FUNCTION " + evil + ".octet_length(text) RETURNS integer LANGUAGE sql AS"
                        + " $$ INSERT INTO " + evil + ".called VALUES ('octet_length') RETURNING 0 $$",
                "CREATE FUNCTION " + evil + ".job_queue_max_payload_bytes() RETURNS integer LANGUAGE sql AS"
                        + " $$ INSERT INTO " + evil + ".called VALUES ('limit') RETURNING 2147483647 $$",
                "CREATE FUNCTION " + evil + ".job_queue_uuid_v7() RETURNS uuid LANGUAGE sql AS"
                        + " $$ INSERT INTO " + evil + ".called VALUES ('uuid') RETURNING '00000000-0000-0000-0000-000000000000'::uuid $$",
                "CREATE FUNCTION " + evil + ".job_queue_channel() RETURNS text LANGUAGE sql AS"
                        + " $$ INSERT INTO " + evil + ".called VALUES ('channel') RETURNING 'stolen' $$",
                "CREATE FUNCTION " + evil + ".now() RETURNS timestamptz LANGUAGE sql AS"
                        + " $$ INSERT INTO " + evil + ".called VALUES ('now') RETURNING '2000-01-01'::timestamptz $$");
        try (Connection c = java.sql.DriverManager.getConnection(db.jdbcUrl()); Statement st = c.createStatement()) {
            st.execute("SET ROLE " + bob);
            st.execute(decoys);
            st.execute("CREATE TEMP TABLE job_queue (LIKE " + schema + ".job_queue)");
            st.execute("SET search_path = pg_temp, " + evil + ", " + schema + ", pg_catalog");
            UUID id;
            try (ResultSet rs = st.executeQuery("SELECT " + schema + ".job_queue_enqueue('work', '{\"secret\": \"bob-hijack\"}')")) {
                rs.next();
                id = rs.getObject(1, UUID.class);
            }
            assertThatThrownBy(() -> st.executeQuery("SELECT " + schema + ".job_queue_enqueue('work',"
                    + " jsonb_build_object('blob', repeat('x', 2000000)))"))
                    .hasMessageContaining("expected payload to be at most 1048576 bytes");
            assertThat(count(st, "SELECT count(*) FROM " + evil + ".called")).as("no decoy was called").isZero();
            assertThat(count(st, "SELECT count(*) FROM pg_temp.job_queue")).isZero();
            assertThat(count(st, "SELECT count(*) FROM " + evil + ".job_queue")).isZero();
            st.execute("RESET ROLE");
            st.execute("DISCARD TEMP");
            assertThat(db.queryForList("SELECT enqueued_by, run_at > '2001-01-01' AS real_clock FROM " + schema
                    + ".job_queue WHERE id = ?", id).get(0))
                    .as("the job is in the real table, stamped by the real clock")
                    .containsEntry("enqueued_by", bob).containsEntry("real_clock", true);
            db.execute("DELETE FROM " + schema + ".job_queue WHERE id = ?", id);
        }
    }

    /**
     * The claims a store makes while a held-back xmin horizon bounds them (issue 18) need no right the
     * worker role lacks: past the claim floor, its sweep and the claim of what the sweep found; a fair
     * queue's claim past each key's floor and its sweep ({@link BoundedClaims}).
     */
    @Test
    void aWorkerRole_claimsPastTheFloors_andRunsTheirSweeps() throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                new BoundedClaims(schema, () -> st.execute("SET LOCAL ROLE " + workerGroup), () -> st.execute("RESET ROLE"))
                        .run(c);
            } finally {
                c.rollback();
            }
        }
    }

    private static long count(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
