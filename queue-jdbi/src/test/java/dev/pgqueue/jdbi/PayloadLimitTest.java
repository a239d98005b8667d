package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.StoreException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The payload limit lives in the owner's job_queue_setting: no producer can lift it (the session
 * setting pgqueue.max_payload_bytes is no longer read), every insert path is checked against it, and
 * the claim neither hands a worker a job over it nor more payload bytes than its budget.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PayloadLimitTest {

    record Blob(String data) {}

    static final JobType<Blob> BLOB = JobType.of("blob", Blob.class);

    private final TestDatabase db;
    private final String suffix = UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private final String producerGroup = "pgq_pl_producer_" + suffix;
    private final String workerGroup = "pgq_pl_worker_" + suffix;
    private final String producer = "pgq_pl_p_" + suffix;
    private final RolePools roles;
    private JdbiJobStore store;

    PayloadLimitTest(TestDatabase db) {
        this.db = db;
        this.roles = new RolePools(db.jdbcUrl());
    }

    @BeforeAll
    void rolesScript() throws SQLException {
        store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        db.execute("CREATE ROLE " + producer + " NOLOGIN");
        String script = SqlFiles.read("/db/pgqueue/optional/roles.sql")
                .replace("pgqueue_producer", producerGroup)
                .replace("pgqueue_worker", workerGroup);
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute(script);
        }
        db.execute("GRANT " + producerGroup + " TO " + producer);
    }

    @AfterAll
    void dropRoles() {
        roles.close();
        db.execute("DROP TABLE job_queue CASCADE"); // its policies name the roles
        for (String role : List.of(producer, producerGroup, workerGroup)) {
            db.execute("DROP OWNED BY " + role + " CASCADE");
            db.execute("DROP ROLE " + role);
        }
    }

    @BeforeEach
    void cleanSlate() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_policy");
        db.execute("UPDATE job_queue_setting SET max_payload_bytes = 1048576");
    }

    private static String json(int bytes) {
        return "{\"data\": \"" + "x".repeat(bytes - 12) + "\"}";
    }

    /** Runs {@code sql} as the producer, who has first lifted the session setting, in a rolled-back transaction. */
    private void asProducerWithSettingLifted(String sql, Object... params) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute("SET LOCAL ROLE " + producer);
                st.execute("SET LOCAL pgqueue.max_payload_bytes = 2147483647");
                try (var ps = c.prepareStatement(sql)) {
                    for (int i = 0; i < params.length; i++) {
                        ps.setObject(i + 1, params[i]);
                    }
                    ps.execute();
                }
            } finally {
                c.rollback();
            }
        }
    }


    @Nested
    class EveryInsertPath {

        private final String big = json(2 * 1024 * 1024);
        private final String expected = "expected payload to be at most 1048576 bytes of JSON (job_queue_setting.max_payload_bytes), got: ";

        @Test
        void plainInsert_byAProducerWhoLiftedTheSetting_isRejected() {
            assertThatThrownBy(() -> asProducerWithSettingLifted(
                    "INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST(? AS jsonb))", big))
                    .hasMessageContaining(expected + (2 * 1024 * 1024) + " bytes");
        }

        @Test
        void enqueueFunctions_byAProducerWhoLiftedTheSetting_areRejected() {
            assertThatThrownBy(() -> asProducerWithSettingLifted(
                    "SELECT job_queue_enqueue('blob', CAST(? AS jsonb))", big))
                    .hasMessageContaining(expected);
            assertThatThrownBy(() -> asProducerWithSettingLifted(
                    "SELECT * FROM job_queue_enqueue_unique('blob', CAST(? AS jsonb), dedupe_key => 'k')", big))
                    .hasMessageContaining(expected);
            assertThatThrownBy(() -> asProducerWithSettingLifted(
                    "SELECT job_queue_enqueue('blob', CAST(? AS jsonb), dedupe_key => 'k')", big))
                    .hasMessageContaining(expected);
        }

        @Test
        void enqueueAfter_andPayloadUpdates_areRejectedWhateverTheSetting() {
            UUID first = UuidV7.next();
            store.jobInsertMany(new InsertParams(List.of(NewJob.builder(first, "blob", "{}").build()), null));
            assertThatThrownBy(() -> db.queryForList(
                    "SELECT job_queue_enqueue_after(ARRAY[?]::uuid[], 'blob', CAST(? AS jsonb))", first, big))
                    .hasMessageContaining(expected);
            assertThatThrownBy(() -> db.execute("UPDATE job_queue SET payload = CAST(? AS jsonb) WHERE id = ?", big, first))
                    .hasMessageContaining(expected);
        }

        @Test
        void javaEnqueue_oneManyAndCopy_byAProducer_areRejected() {
            JdbiJobStore producerStore = JdbiJobStore.builder(Jdbi.create(roles.pool(producer, 2, "SET pgqueue.max_payload_bytes = 2147483647"))).schema(db.schema())
                    .migrate(false).copyThreshold(2).build();
            // A queue whose own check was lifted as well: the database's check still holds.
            JdbiJobQueue queue = JdbiJobQueue.builder(producerStore).maxPayloadBytes(Integer.MAX_VALUE).build();
            Blob blob = new Blob("x".repeat(2 * 1024 * 1024));
            assertThatThrownBy(() -> queue.enqueue(BLOB, blob))
                    .isInstanceOf(StoreException.class).hasStackTraceContaining(expected);
            assertThatThrownBy(() -> queue.enqueueAll(BLOB, List.of(new Blob("small"), blob, new Blob("small")), dev.pgqueue.EnqueueOptions.defaults()))
                    .isInstanceOf(StoreException.class).hasStackTraceContaining(expected);
            assertThatThrownBy(() -> producerStore.jobInsertMany(new InsertParams(List.of(
                    NewJob.builder(UuidV7.next(), "blob", "{}").build(),
                    NewJob.builder(UuidV7.next(), "blob", big).build()), null)))
                    .isInstanceOf(StoreException.class).hasStackTraceContaining(expected);
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue")).isZero();
        }

        @Test
        void everyChangeOfTheSetting_movesTheRowChecksConstant_inTheSameTransaction() throws SQLException {
            // V10: a row trigger whose WHEN holds the limit as a constant, rewritten by a trigger on the setting
            db.execute("UPDATE job_queue_setting SET max_payload_bytes = 100");
            assertThatThrownBy(() -> asProducerWithSettingLifted(
                    "INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST(? AS jsonb))", json(101)))
                    .hasMessageContaining("expected payload to be at most 100 bytes of JSON (job_queue_setting.max_payload_bytes), got: 101 bytes");
            asProducerWithSettingLifted("INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST(? AS jsonb))", json(100));

            db.execute("DELETE FROM job_queue_setting"); // no row: the default, 1 MiB
            asProducerWithSettingLifted("INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST(? AS jsonb))", json(5000));
            assertThatThrownBy(() -> asProducerWithSettingLifted(
                    "INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST(? AS jsonb))", big))
                    .hasMessageContaining(expected + (2 * 1024 * 1024) + " bytes");
            db.execute("INSERT INTO job_queue_setting (id, max_payload_bytes) VALUES (true, 64)");
            assertThatThrownBy(() -> asProducerWithSettingLifted(
                    "INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST(? AS jsonb))", json(65)))
                    .hasMessageContaining("at most 64 bytes");

            // A job inserted in the transaction that lowers the limit, then one after it in that transaction
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.execute("UPDATE job_queue_setting SET max_payload_bytes = 1048576");
                st.execute("INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST('" + json(5000) + "' AS jsonb))");
                st.execute("UPDATE job_queue_setting SET max_payload_bytes = 1000");
                assertThatThrownBy(() -> st.execute("INSERT INTO job_queue (job_type, payload) VALUES ('blob', CAST('"
                        + json(5000) + "' AS jsonb))")).hasMessageContaining("at most 1000 bytes");
                c.rollback();
            }
            assertThat(db.queryForLong("SELECT max_payload_bytes FROM job_queue_setting")).isEqualTo(64);
        }

        @Test
        void theOwnerChangesTheLimit_andJdbiJobQueueChecksEarlyAgainstIt() throws SQLException {
            assertThatThrownBy(() -> asProducerWithSettingLifted("UPDATE job_queue_setting SET max_payload_bytes = 2147483647"))
                    .hasMessageContaining("permission denied");
            db.execute("UPDATE job_queue_setting SET max_payload_bytes = 4194304");
            asProducerWithSettingLifted("SELECT job_queue_enqueue('blob', CAST(? AS jsonb))", big); // now within it

            db.execute("UPDATE job_queue_setting SET max_payload_bytes = 100");
            JdbiJobQueue queue = JdbiJobQueue.create(store);
            assertThatThrownBy(() -> queue.enqueue(BLOB, new Blob("x".repeat(200))))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageContaining("at most 100 bytes");
        }
    }

    @Nested
    class Claim {

        private NewJob job(String queue, int priority, String payload) {
            return NewJob.builder(UuidV7.next(), "blob", payload).queue(queue).priority(priority).userId(UUID.randomUUID()).build();
        }

        private List<ClaimedJob> claim(JdbiJobStore from, String queue, int limit, UUID token) {
            return from.jobClaim(new ClaimParams(queue, Set.of("blob"), limit, "w", token, Duration.ofMinutes(5), null));
        }

        @Test
        void aJobOverTheLimit_failsAtClaim_andItsNeighboursRunNormally() {
            claimFailsOversizedJobs("default");
        }

        @Test
        void aFairQueue_failsAJobOverTheLimitAtClaim_too() {
            store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("fairq", "*", null, null, null, true))));
            claimFailsOversizedJobs("fairq");
        }

        @Test
        void aLimitedQueue_failsAJobOverTheLimitAtClaim_too() {
            store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("limitedq", "*", 10, null, null, false))));
            claimFailsOversizedJobs("limitedq");
        }

        private void claimFailsOversizedJobs(String queue) {
            NewJob before = job(queue, 0, "{\"n\": 1}");
            NewJob big = job(queue, 1, json(5000));
            NewJob after = job(queue, 2, "{\"n\": 2}");
            store.jobInsertMany(new InsertParams(List.of(before, big, after), null));
            db.execute("UPDATE job_queue_setting SET max_payload_bytes = 1000"); // lowered after the insert

            UUID token = UUID.randomUUID();
            List<ClaimedJob> claimed = claim(store, queue, 10, token);

            assertThat(claimed).extracting(ClaimedJob::id).containsExactlyInAnyOrder(before.id(), after.id());
            Map<String, Object> row = db.queryForList(
                    "SELECT status, error_message, attempt, retry_count, lease_token FROM job_queue WHERE id = ?", big.id()).get(0);
            assertThat(row.get("status")).isEqualTo("failed");
            assertThat(row.get("error_message")).isEqualTo("expected payload to be at most 1000 bytes of JSON"
                    + " (job_queue_setting.max_payload_bytes), got: 5000 bytes; failed when claimed, without running");
            assertThat(row.get("attempt")).isEqualTo(0);
            assertThat(row.get("lease_token")).isNull();

            store.jobFinishMany(new FinishParams(List.of(new Finish(before.id(), token, FinishKind.COMPLETE, null, null),
                    new Finish(after.id(), token, FinishKind.COMPLETE, null, null)), null));
            assertThat(db.queryForList("SELECT status, attempt, retry_count FROM job_queue WHERE id IN (?, ?)",
                    before.id(), after.id()))
                    .allSatisfy(r -> assertThat(r).containsEntry("status", "completed").containsEntry("attempt", 1)
                            .containsEntry("retry_count", 0));
        }

        @Test
        void manyMidSizedPayloads_areClaimedAcrossSeveralBatches_withinTheByteBudget() {
            JdbiJobStore budgeted = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema())
                    .claimByteBudget(10_000).build();
            List<NewJob> jobs = new ArrayList<>();
            for (int k = 0; k < 10; k++) {
                jobs.add(job("default", k, json(3000)));
            }
            store.jobInsertMany(new InsertParams(jobs, null));

            List<Integer> sizes = new ArrayList<>();
            Set<UUID> seen = new HashSet<>();
            for (List<ClaimedJob> batch = claim(budgeted, "default", 10, UUID.randomUUID()); !batch.isEmpty();
                    batch = claim(budgeted, "default", 10, UUID.randomUUID())) {
                sizes.add(batch.size());
                batch.forEach(j -> assertThat(seen.add(j.id())).isTrue());
            }

            // 0, 3,000, 6,000 and 9,000 bytes before each of the first four: under 10,000; the fifth would pass it.
            assertThat(sizes).containsExactly(4, 4, 2);
            assertThat(seen).hasSize(10);
        }

        @Test
        void aWorker_runsEveryJobOfBudgetCutBatches_withoutWaitingForAPoll_andNeverRunsAJobOverTheLimit() {
            JdbiJobStore budgeted = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema())
                    .claimByteBudget(10_000).build();
            List<NewJob> jobs = new ArrayList<>();
            for (int k = 0; k < 40; k++) {
                jobs.add(job("default", k, json(3000)));
            }
            NewJob big = job("default", 5, json(50_000));
            jobs.add(big);
            store.jobInsertMany(new InsertParams(jobs, null));
            db.execute("UPDATE job_queue_setting SET max_payload_bytes = 20000"); // lowered after the insert
            List<UUID> ran = java.util.Collections.synchronizedList(new ArrayList<>());

            Worker worker = Worker.builder(budgeted).queue("default", 10).pollInterval(Duration.ofMinutes(5))
                    .handler(BLOB, (j, context) -> {
                        ran.add(j.id());
                        return JobOutcome.done();
                    }).build();
            worker.start();
            try {
                // Ten claims of four jobs each (the budget), one after another: no claim waits for the poll.
                await().atMost(Duration.ofSeconds(20)).until(() ->
                        db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 40);
            } finally {
                worker.close();
            }
            assertThat(ran).hasSize(40).doesNotContain(big.id());
            assertThat(db.queryForList("SELECT status, error_message FROM job_queue WHERE id = ?", big.id()).get(0))
                    .containsEntry("status", "failed")
                    .containsEntry("error_message", "expected payload to be at most 20000 bytes of JSON"
                            + " (job_queue_setting.max_payload_bytes), got: 50000 bytes; failed when claimed, without running");
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed' AND attempt = 1"
                    + " AND retry_count = 0")).isEqualTo(40);
        }

        /**
         * A job failed for its size is taken wherever it sorts in the claim, past the byte budget's cut too, so
         * it must not become the claim floor: claims past the floor would skip the due jobs the budget left
         * before it until a sweep found them. (A worker's claims skipped them so, and with a poll of five
         * minutes it never ran them: aWorker_runsEveryJobOfBudgetCutBatches_… timed out on a loaded machine,
         * where the slow first claim made the next one a probe past the floor.)
         */
        @Test
        void aJobFailedForItsSize_pastTheByteBudgetsCut_isNotTheFloor() throws SQLException {
            List<NewJob> jobs = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                jobs.add(job("default", k, json(3000)));
            }
            NewJob big = job("default", 5, json(50_000)); // sorts after the priority-4 job that the budget leaves
            jobs.add(big);
            store.jobInsertMany(new InsertParams(jobs, null));
            db.execute("UPDATE job_queue_setting SET max_payload_bytes = 20000");
            JobStatements statements = new JobStatements(db.schema(), 1000);
            ClaimParams params = new ClaimParams("default", Set.of("blob"), 10, "w", UUID.randomUUID(), Duration.ofMinutes(5), null);
            try (Connection c = db.dataSource().getConnection()) {
                JobStatements.Claimed first = statements.claim(c, params, 10_000, null);
                assertThat(first.jobs()).extracting(ClaimedJob::priority).containsExactly(0, 1, 2, 3);
                assertThat(first.rows()).as("with the job failed for its size").isEqualTo(5);
                assertThat(first.highest().id()).as("the floor: the last job the claim runs").isEqualTo(jobs.get(3).id());

                JobStatements.Claimed past = statements.claim(c, params, 10_000, first.highest());
                assertThat(past.jobs()).extracting(ClaimedJob::priority).containsExactly(4, 5, 6, 7);
            }
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'pending'")).isZero();
        }

        @Test
        void aJobBiggerThanTheByteBudget_isStillClaimed_alone() {
            JdbiJobStore budgeted = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema())
                    .claimByteBudget(1_000).build();
            store.jobInsertMany(new InsertParams(List.of(job("default", 0, json(5000)), job("default", 1, "{}")), null));

            assertThat(claim(budgeted, "default", 10, UUID.randomUUID())).hasSize(1);
            assertThat(claim(budgeted, "default", 10, UUID.randomUUID())).hasSize(1);
        }

        @Test
        void aLimitedQueue_keepsToTheByteBudget_acrossItsGroups() {
            JdbiJobStore budgeted = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema())
                    .claimByteBudget(10_000).build();
            budgeted.policyPutMany(new PolicyParams(List.of(new QueuePolicy("limitedq", "*", 100, null, null, false))));
            List<NewJob> jobs = new ArrayList<>();
            for (int k = 0; k < 10; k++) {
                jobs.add(job("limitedq", k, json(3000)));
            }
            store.jobInsertMany(new InsertParams(jobs, null));

            assertThat(claim(budgeted, "limitedq", 10, UUID.randomUUID())).hasSize(4);
        }
    }
}
