package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.admin.AttemptRecord;
import dev.pgqueue.admin.FailureGroup;
import dev.pgqueue.admin.JobCount;
import dev.pgqueue.admin.JobDetail;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.admin.JobPage;
import dev.pgqueue.admin.Page;
import dev.pgqueue.admin.QueueStats;
import dev.pgqueue.admin.TableStats;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The admin API on PostgreSQL: each operation against rows written as a worker or producer leaves
 * them, and the workflow, history and wake-up behaviour with real workers and a real LISTEN.
 */
@PostgresTest
class JdbiJobAdminTest {

    record Note(String text) {}

    record Mail(String to) {}

    private static final JobType<Mail> MAIL = JobType.of("send-mail", Mail.class);

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final JdbiJobAdmin admin;
    private final JobRows rows;

    JdbiJobAdminTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
        this.admin = JdbiJobAdmin.builder(store).jobTypes(MAIL).batchSize(3).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void emptyTable() {
        db.execute("DELETE FROM job_queue");
    }

    // ---- rows as workers and producers leave them ---------------------------------------------------

    private UUID insert(String type, String status, String queueName, String error, Instant createdAt) {
        UUID id = UuidV7.next();
        db.execute("INSERT INTO job_queue (id, job_type, status, queue, error_message, created_at, completed_at,"
                        + " lease_expires_at, lease_token, lease_owner, run_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, CASE WHEN ? IN ('completed', 'failed', 'cancelled') THEN now() END,"
                        + " CASE WHEN ? = 'processing' THEN now() + interval '1 hour' END,"
                        + " CASE WHEN ? = 'processing' THEN gen_random_uuid() END,"
                        + " CASE WHEN ? = 'processing' THEN 'worker-1' END, now())",
                id, type, status, queueName, error, java.sql.Timestamp.from(createdAt), status, status, status, status);
        return id;
    }

    private UUID insert(String type, String status) {
        return insert(type, status, "default", status.equals("failed") ? "boom" : null, Instant.now());
    }

    private String status(UUID id) {
        return (String) rows.row(id).get("status");
    }

    private static JobFilter failed() {
        return JobFilter.builder().statuses(JobStatus.FAILED).build();
    }

    private static JobType<Note> type(String name) {
        return JobType.of(name, Note.class);
    }

    private List<UUID> ids(JobPage page) {
        return page.jobs().stream().map(JobSnapshot::id).toList();
    }

    /** Listens on the schema's channel with a connection of its own, as a worker does. */
    private final class Listener implements AutoCloseable {
        private final Connection connection;

        Listener() throws SQLException {
            // A connection of its own, not the pool's: a pooled one could bring notifications an
            // earlier listener left queued on it.
            connection = java.sql.DriverManager.getConnection(db.jdbcUrl());
            try (Statement st = connection.createStatement()) {
                st.execute("LISTEN \"" + channel() + "\"");
            }
        }

        List<String> received(Duration wait) throws SQLException {
            List<String> payloads = new ArrayList<>();
            PGNotification[] notifications = connection.unwrap(PGConnection.class).getNotifications((int) wait.toMillis());
            if (notifications != null) {
                Arrays.stream(notifications).forEach(n -> payloads.add(n.getParameter()));
            }
            return payloads;
        }

        @Override
        public void close() throws SQLException {
            connection.close();
        }
    }

    private String channel() {
        return (String) db.queryForList("SELECT " + db.schema() + ".job_queue_channel() AS c").get(0).get("c");
    }

    // ---- find ----------------------------------------------------------------------------------------

    @Nested
    class Find {

        @Test
        void newestFirst_pagesThroughEveryMatchingJobOnce_inCreationOrder() {
            Instant t = Instant.parse("2026-01-01T00:00:00Z");
            List<UUID> made = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                made.add(insert("a", "pending", "default", null, t.plusSeconds(i / 2))); // pairs share a time: id breaks the tie
            }
            insert("b", "pending");

            List<UUID> seen = new ArrayList<>();
            JobFilter onlyA = JobFilter.builder().types("a").build();
            JobPage page = admin.find(onlyA, Page.newestFirst(3));
            int pages = 1;
            seen.addAll(ids(page));
            while (page.next().isPresent()) {
                page = admin.find(onlyA, Page.newestFirst(3).after(page.nextCursor()));
                seen.addAll(ids(page));
                pages++;
            }

            List<UUID> expected = new ArrayList<>(made);
            expected.sort((x, y) -> {
                int byTime = rows.row(y).get("created_at").toString().compareTo(rows.row(x).get("created_at").toString());
                return byTime != 0 ? byTime : y.compareTo(x);
            });
            assertThat(pages).isEqualTo(3);
            assertThat(seen).containsExactlyElementsOf(expected);
        }

        @Test
        void oldestFirst_returnsTheReverseOrder_andNoCursorOnTheLastPage() {
            Instant t = Instant.parse("2026-01-01T00:00:00Z");
            UUID first = insert("a", "failed", "default", "x", t);
            UUID second = insert("a", "failed", "default", "x", t.plusSeconds(1));

            JobPage page = admin.find(JobFilter.all(), Page.oldestFirst(2));

            assertThat(ids(page)).containsExactly(first, second);
            assertThat(page.next()).isEmpty();
        }

        @Test
        void everyCriterion_narrowsTheResult() {
            UUID user = UUID.randomUUID();
            UUID match = insert("a", "failed", "mail", "SMTP timeout after 30 s", Instant.parse("2026-02-01T00:00:00Z"));
            db.execute("UPDATE job_queue SET user_id = ?, dedupe_key = 'order-17' WHERE id = ?", user, match);
            insert("a", "failed", "mail", "SMTP timeout", Instant.parse("2025-02-01T00:00:00Z"));   // too old
            insert("a", "pending", "mail", null, Instant.parse("2026-02-01T00:00:00Z"));         // other status
            insert("b", "failed", "mail", "SMTP timeout", Instant.parse("2026-02-01T00:00:00Z")); // other type
            insert("a", "failed", "other", "SMTP timeout", Instant.parse("2026-02-01T00:00:00Z")); // other queue

            JobFilter filter = JobFilter.builder().statuses(JobStatus.FAILED).queues("mail").types("a")
                    .created(Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-03-01T00:00:00Z"))
                    .finished(Instant.now().minusSeconds(3600), Instant.now().plusSeconds(3600))
                    .userId(user).errorContains("smtp TIMEOUT").dedupeKeyPrefix("order-").build();

            assertThat(ids(admin.find(filter, Page.newestFirst(10)))).containsExactly(match);
            assertThat(admin.count(filter)).isEqualTo(1);
            assertThat(ids(admin.find(JobFilter.ids(match), Page.newestFirst(10)))).containsExactly(match);
        }

        @Test
        void aGarbageCursor_isRefusedClearly() {
            assertThatThrownBy(() -> admin.find(JobFilter.all(), Page.newestFirst(10).after("not a cursor!")))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected cursor to be a cursor that find returned (JobPage.nextCursor) for a page of the"
                            + " same order, got: \"not a cursor!\"");
            String wellFormedBase64 = java.util.Base64.getUrlEncoder().encodeToString("1|NEWEST_FIRST|x|0|y".getBytes());
            assertThatThrownBy(() -> admin.find(JobFilter.all(), Page.newestFirst(10).after(wellFormedBase64)))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected cursor to be");
        }

        @Test
        void aCursorOfTheOtherOrder_isRefused() {
            insert("a", "pending");
            insert("a", "pending");
            String cursor = admin.find(JobFilter.all(), Page.newestFirst(1)).nextCursor();

            assertThatThrownBy(() -> admin.find(JobFilter.all(), Page.oldestFirst(1).after(cursor)))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected cursor to be");
        }

        @Test
        void aLimitOutOfRange_isRefused() {
            assertThatThrownBy(() -> admin.find(JobFilter.all(), Page.newestFirst(0)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected page limit to be between 1 and 1000, got: 0");
            assertThatThrownBy(() -> admin.find(JobFilter.all(), Page.newestFirst(1001)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected page limit to be between 1 and 1000, got: 1001");
            assertThatThrownBy(() -> admin.find(null, Page.newestFirst(1)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected filter to be non-null, got: null");
        }
    }

    // ---- count ---------------------------------------------------------------------------------------

    @Nested
    class Count {

        @Test
        void count_isExact_perStatusAndOverall() {
            IntStream.range(0, 5).forEach(i -> insert("a", "pending"));
            IntStream.range(0, 3).forEach(i -> insert("a", "failed"));
            insert("a", "processing");

            assertThat(admin.count(JobFilter.builder().statuses(JobStatus.PENDING).build())).isEqualTo(5);
            assertThat(admin.count(failed())).isEqualTo(3);
            assertThat(admin.count(JobFilter.builder().statuses(JobStatus.PENDING, JobStatus.FAILED).build())).isEqualTo(8);
            assertThat(admin.count(JobFilter.all())).isEqualTo(9);
        }

        @Test
        void countOfOneStatus_canBeServedByThatStatusPartialIndex() {
            IntStream.range(0, 20).forEach(i -> insert("a", "failed"));
            db.execute("ANALYZE job_queue");
            String plan = explainWithoutSeqScan(
                    "SELECT count(*) FROM job_queue j WHERE " + AdminFilter.of(failed()).sql());

            assertThat(plan).contains("job_queue_failed_idx");
        }

        private String explainWithoutSeqScan(String sql) {
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                st.execute("SET enable_seqscan = off");
                StringBuilder plan = new StringBuilder();
                try (var rs = st.executeQuery("EXPLAIN " + sql)) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                st.execute("RESET enable_seqscan");
                return plan.toString();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    // ---- job -----------------------------------------------------------------------------------------

    @Nested
    class JobDetails {

        @Test
        void job_showsTheRowItsDependenciesAndDependents() {
            UUID a = queue.enqueue(type("a"), new Note("a"));
            UUID b = queue.enqueue(type("b"), new Note("b"), EnqueueOptions.defaults().dependsOn(a));
            UUID c = queue.enqueue(type("c"), new Note("c"), EnqueueOptions.defaults().dependsOn(b));

            JobDetail detail = admin.job(b).orElseThrow();

            assertThat(detail.job().id()).isEqualTo(b);
            assertThat(detail.job().status()).isEqualTo(JobStatus.WAITING);
            assertThat(detail.dependsOn()).containsExactly(a);
            assertThat(detail.dependents()).containsExactly(c);
            assertThat(detail.attempts()).isEmpty();
            assertThat(detail.traceContext()).isEmpty();
        }

        @Test
        void job_ofAnUnknownId_isEmpty() {
            assertThat(admin.job(UUID.randomUUID())).isEmpty();
        }

        @Test
        void aJobThatFailedThenCompleted_hasNoErrorMessage_andItsHistoryKeepsTheFailure() {
            AtomicInteger runs = new AtomicInteger();
            JobType<Note> flaky = type("flaky").withRetryPolicy(RetryPolicy.noBackoff());
            UUID id = queue.enqueue(flaky, new Note("x"));
            try (Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(50)).queue("default", 1)
                    .handler(flaky, (job, context) -> {
                        if (runs.incrementAndGet() == 1) {
                            throw new IllegalStateException("first run fails");
                        }
                        return JobOutcome.done();
                    }).build()) {
                worker.start();
                await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(status(id)));
            }

            JobDetail detail = admin.job(id).orElseThrow();
            assertThat(detail.job().errorMessage()).as("no stale error on a completed job").isNull();
            assertThat(detail.attempts()).singleElement().satisfies(entry -> {
                assertThat(entry.attempt()).isEqualTo(1);
                assertThat(entry.kind()).isEqualTo("retried");
                assertThat(entry.message()).contains("first run fails");
                assertThat(entry.worker()).isNotNull();
                assertThat(entry.at()).isBefore(Instant.now().plusSeconds(60));
            });
        }

        @Test
        void history_keepsTheLatest20Entries() {
            UUID id = insert("a", "failed");
            for (int i = 0; i < 25; i++) {
                admin.retry(JobFilter.ids(id));
                db.execute("UPDATE job_queue SET status = 'failed', completed_at = now() WHERE id = ?", id);
            }

            List<AttemptRecord> attempts = admin.job(id).orElseThrow().attempts();
            assertThat(attempts).hasSize(20).allSatisfy(a -> assertThat(a.kind()).isEqualTo("admin-retry"));
        }
    }

    // ---- retry ---------------------------------------------------------------------------------------

    @Nested
    class Retry {

        @Test
        void retry_makesFailedAndCancelledJobsPendingNow_leavingOthersAlone() {
            UUID failedJob = insert("a", "failed");
            UUID cancelledJob = insert("a", "cancelled");
            UUID processing = insert("a", "processing");
            UUID completed = insert("a", "completed");
            db.execute("UPDATE job_queue SET retry_count = 4, max_retries = 3, attempt = 4, run_at = now() - interval '1 day'"
                    + " WHERE id = ?", failedJob);

            long retried = admin.retry(JobFilter.all());

            assertThat(retried).isEqualTo(2);
            Map<String, Object> row = rows.row(failedJob);
            assertThat(row).containsEntry("status", "pending").containsEntry("retry_count", 0).containsEntry("attempt", 4);
            assertThat(row.get("error_message")).isNull();
            assertThat(row.get("completed_at")).isNull();
            assertThat(JobRows.instant(row, "run_at")).isAfter(Instant.now().minusSeconds(60));
            assertThat(status(cancelledJob)).isEqualTo("pending");
            assertThat(status(processing)).isEqualTo("processing");
            assertThat(status(completed)).isEqualTo("completed");
            assertThat(admin.job(failedJob).orElseThrow().attempts()).singleElement()
                    .satisfies(a -> assertThat(a.kind()).isEqualTo("admin-retry"))
                    .satisfies(a -> assertThat(a.message()).isEqualTo("retried after: boom"));
        }

        @Test
        void bulkRetry_walksEveryMatchingJob_inBatches() {
            List<UUID> made = IntStream.range(0, 10).mapToObj(i -> insert("a", "failed")).toList();
            insert("b", "failed");

            long retried = admin.retry(JobFilter.builder().statuses(JobStatus.FAILED).types("a").build());

            assertThat(retried).isEqualTo(10); // batches of 3
            assertThat(made).allSatisfy(id -> assertThat(status(id)).isEqualTo("pending"));
            assertThat(rows.count("failed")).isEqualTo(1);
        }

        @Test
        void retry_wakesTheWorkersOfTheQueue_onItsChannel() throws Exception {
            insert("a", "failed", "mail", "x", Instant.now());
            insert("a", "failed", "mail", "x", Instant.now());
            try (Listener listener = new Listener()) {
                admin.retry(failed());

                assertThat(listener.received(Duration.ofSeconds(5))).containsExactly("mail");
            }
        }

        @Test
        void retriedJobs_runAgainOnAWorker() {
            UUID id = queue.enqueue(type("a"), new Note("x"), EnqueueOptions.defaults().maxRetries(0));
            AtomicBoolean broken = new AtomicBoolean(true);
            try (Worker worker = Worker.builder(store).pollInterval(Duration.ofSeconds(30)).queue("default", 1)
                    .handler(type("a"), (job, context) -> {
                        if (broken.get()) {
                            throw new IllegalStateException("broken");
                        }
                        return JobOutcome.done();
                    }).build()) {
                worker.start();
                await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(status(id)));
                broken.set(false);

                admin.retry(JobFilter.ids(id));

                // The poll interval is 30 s: only the notification can wake it this soon.
                await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(status(id)));
            }
            assertThat(admin.job(id).orElseThrow().attempts()).extracting(AttemptRecord::kind)
                    .containsExactly("failed", "admin-retry");
            assertThat(rows.row(id)).containsEntry("attempt", 2);
        }

        @Test
        void retryFromTheFailedNode_releasesTheDependentsItsFailureCancelled() {
            AtomicBoolean bBroken = new AtomicBoolean(true);
            AtomicInteger cRuns = new AtomicInteger();
            Worker.Builder builder = Worker.builder(store).pollInterval(Duration.ofMillis(50)).queue("default", 2)
                    .handler(type("a"), (job, context) -> JobOutcome.done())
                    .handler(type("b"), (job, context) -> {
                        if (bBroken.get()) {
                            throw new IllegalStateException("b is broken");
                        }
                        return JobOutcome.done();
                    })
                    .handler(type("c"), (job, context) -> {
                        cRuns.incrementAndGet();
                        return JobOutcome.done();
                    });
            UUID a = queue.enqueue(type("a"), new Note("a"));
            UUID b = queue.enqueue(type("b"), new Note("b"), EnqueueOptions.defaults().dependsOn(a).maxRetries(0));
            UUID c = queue.enqueue(type("c"), new Note("c"), EnqueueOptions.defaults().dependsOn(b));
            try (Worker worker = builder.build()) {
                worker.start();
                await().atMost(Duration.ofSeconds(15)).until(() -> "cancelled".equals(status(c)));
                assertThat(status(b)).isEqualTo("failed");
                assertThat(cRuns).hasValue(0);
                bBroken.set(false);

                assertThat(admin.retry(JobFilter.ids(b))).isEqualTo(1);
                assertThat(status(c)).as("c waits for b again").isEqualTo("waiting");

                await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(status(c)));
            }
            assertThat(cRuns).hasValue(1);
            assertThat(rows.row(a)).containsEntry("attempt", 1);
            assertThat(admin.job(c).orElseThrow().attempts()).extracting(AttemptRecord::kind).containsExactly("released");
        }

        @Test
        void retryFromTheFailedNode_releasesADependentEnqueuedAfterTheFailure_andItsCompletionRunsIt() {
            AtomicBoolean bBroken = new AtomicBoolean(true);
            AtomicInteger cRuns = new AtomicInteger();
            Worker.Builder builder = Worker.builder(store).pollInterval(Duration.ofMillis(50)).queue("default", 2)
                    .handler(type("b"), (job, context) -> {
                        if (bBroken.get()) {
                            throw new IllegalStateException("b is broken");
                        }
                        return JobOutcome.done();
                    })
                    .handler(type("c"), (job, context) -> {
                        cRuns.incrementAndGet();
                        return JobOutcome.done();
                    });
            UUID b = queue.enqueue(type("b"), new Note("b"), EnqueueOptions.defaults().maxRetries(0));
            try (Worker worker = builder.build()) {
                worker.start();
                await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(status(b)));
                // Enqueued after b failed: cancelled at once, and b was never marked as having dependents.
                UUID c = queue.enqueue(type("c"), new Note("c"), EnqueueOptions.defaults().dependsOn(b));
                assertThat(status(c)).isEqualTo("cancelled");
                bBroken.set(false);

                assertThat(admin.retry(JobFilter.ids(b))).isEqualTo(1);
                assertThat(status(c)).as("c waits for b again").isEqualTo("waiting");

                await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(status(c)));
            }
            assertThat(cRuns).hasValue(1);
        }

        @Test
        void retryFromTheFailedNode_releasesACascadeTransitively_butNotADependentThatAlsoWaitsForAnotherFailure() {
            // b fails, cancelling c, d (d waits for c) and e (e waits for b and x; x fails later, on its own);
            // f was cancelled by another job's cascade.
            UUID b = insert("b", "processing");
            UUID x = insert("x", "processing");
            UUID c = queue.enqueue(type("c"), new Note("c"), EnqueueOptions.defaults().dependsOn(b));
            UUID d = queue.enqueue(type("d"), new Note("d"), EnqueueOptions.defaults().dependsOn(c));
            UUID e = queue.enqueue(type("e"), new Note("e"), EnqueueOptions.defaults().dependsOn(b, x));
            UUID f = queue.enqueue(type("f"), new Note("f"), EnqueueOptions.defaults().dependsOn(b));
            db.execute("UPDATE job_queue SET status = 'cancelled', error_message = 'cancelled: its dependency y/'"
                    + " || gen_random_uuid() || ' failed', completed_at = now() WHERE id = ?", f);
            db.execute("UPDATE job_queue SET status = 'failed', completed_at = now(), error_message = 'b broke' WHERE id = ?", b);
            db.execute("UPDATE job_queue SET status = 'failed', completed_at = now(), error_message = 'x broke' WHERE id = ?", x);
            assertThat(List.of(status(c), status(d), status(e))).containsOnly("cancelled");

            assertThat(admin.retry(JobFilter.ids(b))).isEqualTo(1);

            assertThat(status(b)).isEqualTo("pending");
            assertThat(rows.row(c)).containsEntry("status", "waiting").containsEntry("waiting_for", 1);
            assertThat(rows.row(d)).containsEntry("status", "waiting").containsEntry("waiting_for", 1);
            assertThat(status(e)).as("x failed too: e would wait forever").isEqualTo("cancelled");
            assertThat(status(f)).as("its cancellation named another job").isEqualTo("cancelled");
            assertThat(rows.row(c).get("error_message")).isNull();
        }

        @Test
        void retryWithPayload_validatesAgainstTheJobType_recordsTheEdit_andRetries() {
            UUID id = queue.enqueue(MAIL, new Mail("old@example.com"), EnqueueOptions.defaults());
            db.execute("UPDATE job_queue SET status = 'failed', completed_at = now(), error_message = 'bad address' WHERE id = ?", id);

            JobSnapshot retried = admin.retryWithPayload(id, "{\"to\": \"new@example.com\"}", "typo in the address");

            assertThat(retried.status()).isEqualTo(JobStatus.PENDING);
            assertThat(retried.payloadJson()).isEqualTo("{\"to\": \"new@example.com\"}");
            assertThat(admin.job(id).orElseThrow().attempts()).extracting(AttemptRecord::kind)
                    .containsExactly("payload-edited", "admin-retry");
            assertThat(admin.job(id).orElseThrow().attempts().get(0).message())
                    .isEqualTo("typo in the address; previous payload: {\"to\": \"old@example.com\"}");
        }

        @Test
        void retryWithPayload_refusesAPayloadTheJobTypeCannotRead_andChangesNothing() {
            UUID id = queue.enqueue(MAIL, new Mail("old@example.com"), EnqueueOptions.defaults());
            db.execute("UPDATE job_queue SET status = 'failed', completed_at = now() WHERE id = ?", id);
            Map<String, Object> before = rows.row(id);

            assertThatThrownBy(() -> admin.retryWithPayload(id, "{\"to\": [1, 2]}", null))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected payloadJson to be a payload of job type send-mail (Mail)");
            assertThatThrownBy(() -> admin.retryWithPayload(id, "[1]", null))
                    .isInstanceOf(ValidationException.class).hasMessage("expected payloadJson to be a JSON object, got: \"[1]\"");
            assertThatThrownBy(() -> admin.retryWithPayload(id, "{not json", null))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected payloadJson to be a JSON object (");
            assertThat(rows.row(id)).isEqualTo(before);
        }

        @Test
        void retryWithPayload_ofAJobThatIsNotFailedOrCancelled_isRefused() {
            UUID pending = insert("a", "pending");

            assertThatThrownBy(() -> admin.retryWithPayload(pending, "{}", null))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected job a/" + pending + " to be failed or cancelled to be retried, got: PENDING");
            assertThatThrownBy(() -> admin.retryWithPayload(UUID.randomUUID(), "{}", null))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected id to be the id of an existing job");
        }

        @Test
        void retryWithPayload_ofATypeNotGiven_acceptsAnyJsonObject() {
            UUID id = insert("other", "cancelled");

            assertThat(admin.retryWithPayload(id, "{\"any\": [1]}", null).payloadJson()).isEqualTo("{\"any\": [1]}");
        }
    }

    // ---- cancel, delete, run now, priority -----------------------------------------------------------

    @Nested
    class Cancel {

        @Test
        void cancel_endsWaitingAndPendingJobsAtOnce_andAsksRunningOnesToStop() throws Exception {
            UUID pending = insert("a", "pending");
            UUID processing = insert("a", "processing");
            UUID completed = insert("a", "completed");
            try (Listener listener = new Listener()) {
                assertThat(admin.cancel(JobFilter.all())).isEqualTo(2);

                assertThat(listener.received(Duration.ofSeconds(5))).containsExactly("cancel:" + processing);
            }
            assertThat(rows.row(pending)).containsEntry("status", "cancelled").containsEntry("error_message", "cancelled by an operator");
            assertThat(rows.row(processing)).containsEntry("status", "processing");
            assertThat(rows.row(processing).get("cancel_requested_at")).isNotNull();
            assertThat(status(completed)).isEqualTo("completed");
            assertThat(admin.cancel(JobFilter.all())).as("asked once").isZero();
        }

        @Test
        void cancel_ofARunningJob_endsItCancelledOnItsWorker() {
            AtomicBoolean started = new AtomicBoolean();
            UUID id = queue.enqueue(type("slow"), new Note("x"));
            try (Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(50)).queue("default", 1)
                    .handler(type("slow"), (job, context) -> {
                        started.set(true);
                        while (!context.isCancellationRequested()) {
                            Thread.sleep(20);
                        }
                        return JobOutcome.cancel("stopped on request");
                    }).build()) {
                worker.start();
                await().atMost(Duration.ofSeconds(10)).untilTrue(started);

                assertThat(admin.cancel(JobFilter.ids(id))).isEqualTo(1);

                await().atMost(Duration.ofSeconds(10)).until(() -> "cancelled".equals(status(id)));
            }
        }
    }

    @Nested
    class Delete {

        @Test
        void delete_neverTouchesProcessingJobs() {
            UUID pending = insert("a", "pending");
            UUID failedJob = insert("a", "failed");
            UUID processing = insert("a", "processing");

            assertThat(admin.delete(JobFilter.all())).isEqualTo(2);

            assertThat(rows.exists(pending)).isFalse();
            assertThat(rows.exists(failedJob)).isFalse();
            assertThat(rows.exists(processing)).isTrue();
        }
    }

    @Nested
    class RunNowAndPriority {

        @Test
        void runNow_makesPendingJobsDue_andWakesTheirWorkers() throws Exception {
            UUID later = queue.enqueue(type("a"), new Note("x"), EnqueueOptions.defaults().queue("reports").delay(Duration.ofHours(1)));
            try (Listener listener = new Listener()) {
                assertThat(admin.runNow(JobFilter.all())).isEqualTo(1);

                assertThat(listener.received(Duration.ofSeconds(5))).containsExactly("reports");
            }
            assertThat(JobRows.instant(rows.row(later), "run_at")).isBefore(Instant.now().plusSeconds(5));
            assertThat(admin.runNow(JobFilter.all())).as("already due").isZero();
        }

        @Test
        void changePriority_changesWaitingAndPendingJobsOnly() {
            UUID pending = insert("a", "pending");
            UUID processing = insert("a", "processing");
            UUID failedJob = insert("a", "failed");

            assertThat(admin.changePriority(JobFilter.all(), -5)).isEqualTo(1);

            assertThat(rows.row(pending)).containsEntry("priority", -5);
            assertThat(rows.row(processing)).containsEntry("priority", 0);
            assertThat(rows.row(failedJob)).containsEntry("priority", 0);
        }
    }

    // ---- failure groups, stats -----------------------------------------------------------------------

    @Nested
    class FailureGroups {

        @Test
        void failedJobs_areGroupedByQueueTypeAndFirstLineOfError_largestFirst() {
            for (int i = 0; i < 3; i++) {
                insert("mail", "failed", "default", "java.net.SocketTimeoutException: read timed out\n\tat x.y(Z.java:" + i + ")", Instant.now());
            }
            insert("mail", "failed", "default", "Invalid address", Instant.now());
            insert("mail", "failed", "default", null, Instant.now());
            insert("mail", "pending", "default", "java.net.SocketTimeoutException: read timed out", Instant.now());

            List<FailureGroup> groups = admin.failureGroups(JobFilter.all(), 10);

            assertThat(groups).extracting(FailureGroup::error, FailureGroup::count).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("java.net.SocketTimeoutException: read timed out", 3L),
                    org.assertj.core.groups.Tuple.tuple("", 1L),
                    org.assertj.core.groups.Tuple.tuple("Invalid address", 1L));
            for (FailureGroup group : groups) {
                assertThat(admin.count(group.filter())).as(group.error()).isEqualTo(group.count());
            }
        }

        @Test
        void retryingOneGroup_retriesExactlyItsJobs() {
            insert("mail", "failed", "default", "timeout\nstack", Instant.now());
            insert("mail", "failed", "default", "timeout\nother stack", Instant.now());
            insert("mail", "failed", "default", "timeout but longer", Instant.now());
            insert("sms", "failed", "default", "timeout", Instant.now());
            FailureGroup timeouts = admin.failureGroups(JobFilter.builder().types("mail").build(), 10).get(0);

            assertThat(timeouts.error()).isEqualTo("timeout");
            assertThat(admin.retry(timeouts.filter())).isEqualTo(2);
            assertThat(rows.count("failed")).isEqualTo(2);
        }
    }

    @Nested
    class Stats {

        @Test
        void queueStats_countsPerStatus_oldestPendingAge_andRecentThroughput() {
            UUID oldPending = insert("a", "pending", "mail", null, Instant.now());
            db.execute("UPDATE job_queue SET run_at = now() - interval '10 minutes' WHERE id = ?", oldPending);
            UUID notDue = insert("a", "pending", "mail", null, Instant.now());
            db.execute("UPDATE job_queue SET run_at = now() + interval '1 hour' WHERE id = ?", notDue);
            insert("a", "processing", "mail", null, Instant.now());
            UUID done30s = insert("a", "completed", "mail", null, Instant.now());
            db.execute("UPDATE job_queue SET completed_at = now() - interval '30 seconds' WHERE id = ?", done30s);
            UUID done3m = insert("a", "completed", "mail", null, Instant.now());
            db.execute("UPDATE job_queue SET completed_at = now() - interval '3 minutes' WHERE id = ?", done3m);
            UUID done1h = insert("a", "completed", "mail", null, Instant.now());
            db.execute("UPDATE job_queue SET completed_at = now() - interval '1 hour' WHERE id = ?", done1h);
            UUID failed10m = insert("a", "failed", "mail", "x", Instant.now());
            db.execute("UPDATE job_queue SET completed_at = now() - interval '10 minutes' WHERE id = ?", failed10m);
            insert("a", "pending", "other", null, Instant.now());

            List<QueueStats> stats = admin.queueStats();

            assertThat(stats).extracting(QueueStats::queue).containsExactly("mail", "other");
            QueueStats mail = stats.get(0);
            assertThat(mail.counts()).containsEntry(JobStatus.PENDING, JobCount.exact(2)).containsEntry(JobStatus.COMPLETED, JobCount.exact(3))
                    .containsEntry(JobStatus.FAILED, JobCount.exact(1)).containsEntry(JobStatus.WAITING, JobCount.exact(0)).hasSize(6);
            assertThat(mail.running()).isEqualTo(1);
            assertThat(mail.paused()).isFalse();
            assertThat(mail.oldestPendingAge()).isBetween(Duration.ofMinutes(10), Duration.ofMinutes(11));
            assertThat(List.of(mail.completedLast1m(), mail.completedLast5m(), mail.completedLast15m())).containsExactly(1L, 2L, 2L);
            assertThat(List.of(mail.failedLast1m(), mail.failedLast5m(), mail.failedLast15m())).containsExactly(0L, 0L, 1L);
            assertThat(stats.get(1).oldestPendingAge()).isLessThan(Duration.ofMinutes(1));
        }

        /** Jobs of every status in three queues, inserted in bulk as workers would have left them, then analyzed. */
        private void fillForEstimates() {
            db.execute("""
                    INSERT INTO job_queue (job_type, status, queue, error_message, completed_at, lease_expires_at,
                                           lease_token, lease_owner, waiting_for)
                    SELECT 'a', v.status, v.queue, CASE WHEN v.status = 'failed' THEN 'boom' END,
                           CASE WHEN v.status IN ('completed', 'failed', 'cancelled') THEN now() - interval '1 hour' END,
                           CASE WHEN v.status = 'processing' THEN now() + interval '1 hour' END,
                           CASE WHEN v.status = 'processing' THEN gen_random_uuid() END,
                           CASE WHEN v.status = 'processing' THEN 'worker-1' END,
                           CASE WHEN v.status = 'waiting' THEN 1 END
                      FROM (VALUES ('big', 'completed', 300), ('big', 'failed', 20), ('big', 'cancelled', 12),
                                   ('big', 'pending', 7), ('big', 'waiting', 2), ('big', 'processing', 3),
                                   ('done-only', 'completed', 100), ('failing', 'failed', 40)) AS v(queue, status, n),
                           generate_series(1, v.n)
                    """);
            db.execute("ANALYZE job_queue");
        }

        private Map<String, Map<JobStatus, Long>> exactCounts() {
            Map<String, Map<JobStatus, Long>> counts = new java.util.TreeMap<>();
            for (Map<String, Object> row : db.queryForList("SELECT queue, status, count(*) AS n FROM job_queue GROUP BY 1, 2")) {
                counts.computeIfAbsent((String) row.get("queue"), q -> new java.util.EnumMap<>(JobStatus.class))
                        .put(JobStatus.fromSql((String) row.get("status")), ((Number) row.get("n")).longValue());
            }
            return counts;
        }

        @Test
        void queueStats_onASmallTable_countsEveryStatusExactly() {
            fillForEstimates();

            List<QueueStats> stats = admin.queueStats();

            Map<String, Map<JobStatus, Long>> exact = exactCounts();
            assertThat(stats).extracting(QueueStats::queue).containsExactlyElementsOf(exact.keySet());
            for (QueueStats q : stats) {
                for (JobStatus status : JobStatus.values()) {
                    assertThat(q.counts().get(status)).as(q.queue() + " " + status)
                            .isEqualTo(JobCount.exact(exact.get(q.queue()).getOrDefault(status, 0L)));
                }
            }
        }

        @Test
        void queueStats_onATableOverTheExactLimit_estimatesCompletedAndCancelled_andCountsTheActionableStatesExactly() {
            fillForEstimates();
            JdbiJobAdmin limited = JdbiJobAdmin.builder(store).exactCountLimit(200).build();

            List<QueueStats> stats = limited.queueStats();

            assertThat(stats).extracting(QueueStats::queue).containsExactly("big", "done-only", "failing");
            QueueStats big = stats.get(0);
            assertThat(big.counts().get(JobStatus.PENDING)).isEqualTo(JobCount.exact(7));
            assertThat(big.counts().get(JobStatus.WAITING)).isEqualTo(JobCount.exact(2));
            assertThat(big.counts().get(JobStatus.PROCESSING)).isEqualTo(JobCount.exact(3));
            assertThat(big.counts().get(JobStatus.FAILED)).as("60 failed jobs, under the limit").isEqualTo(JobCount.exact(20));
            assertThat(stats.get(2).counts().get(JobStatus.FAILED)).isEqualTo(JobCount.exact(40));
            // ANALYZE read every row of this small table, so the planner's estimates are close.
            assertThat(big.counts().get(JobStatus.COMPLETED).accuracy()).isEqualTo(JobCount.Accuracy.ESTIMATE);
            assertThat(big.count(JobStatus.COMPLETED)).isBetween(270L, 330L);
            assertThat(big.counts().get(JobStatus.CANCELLED).accuracy()).isEqualTo(JobCount.Accuracy.ESTIMATE);
            assertThat(big.count(JobStatus.CANCELLED)).isBetween(6L, 18L);
            QueueStats doneOnly = stats.get(1);
            assertThat(doneOnly.counts().get(JobStatus.COMPLETED).accuracy()).as("a queue only ANALYZE knows")
                    .isEqualTo(JobCount.Accuracy.ESTIMATE);
            assertThat(doneOnly.count(JobStatus.COMPLETED)).isBetween(90L, 110L);
            assertThat(doneOnly.counts().get(JobStatus.PENDING)).isEqualTo(JobCount.exact(0));
            // Polled: the driver prepares a statement on the server after a few runs; the estimates stay.
            for (int i = 0; i < 8; i++) {
                assertThat(limited.queueStats()).extracting(QueueStats::counts).isEqualTo(stats.stream().map(QueueStats::counts).toList());
            }
        }

        @Test
        void queueStats_overTheExactLimitOfFailedJobs_estimatesThem_andKeepsTheRecentFailuresExact() {
            fillForEstimates();
            db.execute("UPDATE job_queue SET completed_at = now() - interval '2 minutes' WHERE queue = 'failing'");
            db.execute("ANALYZE job_queue");
            JdbiJobAdmin limited = JdbiJobAdmin.builder(store).exactCountLimit(30).build();

            QueueStats failing = limited.queueStats().stream().filter(q -> q.queue().equals("failing")).findFirst().orElseThrow();

            assertThat(failing.counts().get(JobStatus.FAILED).accuracy()).isEqualTo(JobCount.Accuracy.ESTIMATE);
            assertThat(failing.count(JobStatus.FAILED)).as("an estimate near 40").isBetween(30L, 50L);
            assertThat(List.of(failing.failedLast1m(), failing.failedLast5m(), failing.failedLast15m())).containsExactly(0L, 40L, 40L);
        }

        @Test
        void countUpTo_isExactUpToTheLimit_andALowerBoundBeyond() {
            for (int i = 0; i < 5; i++) {
                insert("a", "failed");
            }
            insert("a", "pending");

            assertThat(admin.countUpTo(failed(), 5)).isEqualTo(JobCount.exact(5));
            assertThat(admin.countUpTo(failed(), 4)).isEqualTo(JobCount.atLeast(4));
            assertThat(admin.countUpTo(JobFilter.all(), 1)).isEqualTo(JobCount.atLeast(1));
            assertThat(admin.countUpTo(JobFilter.all(), Long.MAX_VALUE)).isEqualTo(JobCount.exact(6));
            assertThat(admin.countUpTo(JobFilter.builder().queues("none").build(), 10)).isEqualTo(JobCount.exact(0));
            assertThatThrownBy(() -> admin.countUpTo(failed(), 0)).isInstanceOf(ValidationException.class)
                    .hasMessage("expected limit to be >= 1, got: 0");
            assertThatThrownBy(() -> admin.countUpTo(null, 10)).isInstanceOf(ValidationException.class);
        }

        @Test
        void tableStats_reportsTheTableHealthCheck() {
            insert("a", "pending");
            db.execute("ANALYZE job_queue");

            TableStats stats = admin.tableStats();

            assertThat(stats.liveRows()).isEqualTo(1);
            assertThat(stats.deadRows()).isGreaterThanOrEqualTo(0);
        }

        @Test
        void pause_showsTheQueuePausedInItsStats_evenWithNoJobs_andResumeClearsIt() {
            insert("a", "pending", "paused-mail", null, Instant.now());
            try {
                admin.pause("paused-mail");
                admin.pause("paused-empty");

                assertThat(admin.queueStats()).filteredOn(QueueStats::paused).extracting(QueueStats::queue)
                        .containsExactly("paused-empty", "paused-mail");
                QueueStats empty = admin.queueStats().stream().filter(q -> q.queue().equals("paused-empty")).findFirst().orElseThrow();
                assertThat(empty.counts()).hasSize(JobStatus.values().length).allSatisfy((status, n) -> assertThat(n).isEqualTo(JobCount.exact(0)));
            } finally {
                admin.resume("paused-mail");
                admin.resume("paused-empty");
            }
            assertThat(admin.queueStats()).noneMatch(QueueStats::paused).extracting(QueueStats::queue)
                    .contains("paused-mail").doesNotContain("paused-empty");
        }

        @Test
        void workers_and_recurring_readTheRegistry_emptyWithNoWorker() {
            assertThat(admin.workers()).isEmpty();
            assertThat(admin.recurring()).isEmpty();
        }
    }

    // ---- hostile and bad input -----------------------------------------------------------------------

    @Nested
    class HostileInput {

        @Test
        void filterText_isMatchedLiterally_likeWildcardsAndQuotesIncluded() {
            UUID percent = insert("a", "failed", "default", "100% done", Instant.now());
            UUID underscore = insert("a", "failed", "default", "a_b", Instant.now());
            UUID backslash = insert("a", "failed", "default", "C:\\temp\\x", Instant.now());
            UUID quote = insert("a", "failed", "default", "it's'; DROP TABLE jobs; --", Instant.now());
            insert("a", "failed", "default", "plain axb 100 done", Instant.now());

            assertThat(ids(admin.find(JobFilter.builder().errorContains("%").build(), Page.newestFirst(10)))).containsExactly(percent);
            assertThat(ids(admin.find(JobFilter.builder().errorContains("_").build(), Page.newestFirst(10)))).containsExactly(underscore);
            assertThat(ids(admin.find(JobFilter.builder().errorContains("\\").build(), Page.newestFirst(10)))).containsExactly(backslash);
            assertThat(ids(admin.find(JobFilter.builder().errorContains("'; DROP TABLE jobs; --").build(), Page.newestFirst(10))))
                    .containsExactly(quote);
            assertThat(admin.count(JobFilter.builder().queues("default' OR '1'='1").build())).isZero();
            assertThat(admin.count(JobFilter.builder().types("a\") OR true --").build())).isZero();
            assertThat(admin.delete(JobFilter.builder().dedupeKeyPrefix("%").build())).isZero();
            assertThat(admin.retry(JobFilter.builder().errorFirstLine("' OR 1=1 --").build())).isZero();
            assertThat(rows.count()).isEqualTo(5);
        }
    }

    @Nested
    class BadInput {

        @Test
        void everyOperation_refusesANullFilter_andChangesNothing() {
            insert("a", "failed");
            Map<String, Object> before = rows.all().get(0);

            for (Runnable call : List.<Runnable>of(() -> admin.count(null), () -> admin.retry(null), () -> admin.cancel(null),
                    () -> admin.delete(null), () -> admin.runNow(null), () -> admin.changePriority(null, 1),
                    () -> admin.failureGroups(null, 1))) {
                assertThatThrownBy(call::run).isInstanceOf(ValidationException.class)
                        .hasMessage("expected filter to be non-null, got: null");
            }
            assertThat(rows.all()).containsExactly(before);
        }

        @Test
        void textThatPostgresCannotStore_andLimitsOutOfRange_areRefused() {
            assertThatThrownBy(() -> admin.count(JobFilter.builder().errorContains("a\u0000b").build()))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected filter errorContains to be at most 10000 characters without \\u0000");
            assertThatThrownBy(() -> admin.failureGroups(JobFilter.all(), 0))
                    .isInstanceOf(ValidationException.class).hasMessage("expected limit to be between 1 and 1000, got: 0");
            assertThatThrownBy(() -> JdbiJobAdmin.builder(store).batchSize(0))
                    .isInstanceOf(ValidationException.class).hasMessage("expected batchSize to be between 1 and 10000, got: 0");
            assertThatThrownBy(() -> JobFilter.ids(new UUID[0]))
                    .isInstanceOf(ValidationException.class).hasMessage("expected ids to be at least one job id, got: \"none\"");
            assertThatThrownBy(() -> JobFilter.builder().queues("a", null))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected queues to be non-null values");
            assertThatThrownBy(() -> admin.count(JobFilter.builder().created(Instant.MIN, null).build()))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected filter createdAfter to be between");
        }
    }

    // ---- least privilege -----------------------------------------------------------------------------

    @Nested
    class Privileges {

        @Test
        void theAdminFunctionsAndViews_areNotForPublic() {
            List<Map<String, Object>> granted = db.queryForList(
                    "SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                            + " WHERE n.nspname = ? AND p.proname IN ('job_queue_retry', 'job_queue_cancel_jobs', 'job_queue_delete_jobs')"
                            + " AND has_function_privilege('public', p.oid, 'EXECUTE')"
                            + " UNION ALL SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                            + " WHERE n.nspname = ? AND c.relname IN ('job_queue_stats', 'job_queue_failure_groups')"
                            + " AND c.relacl IS NOT NULL AND EXISTS (SELECT FROM aclexplode(c.relacl) a WHERE a.grantee = 0)",
                    db.schema(), db.schema());
            Set<String> names = granted.stream().map(r -> (String) r.get("name")).collect(Collectors.toSet());

            assertThat(names).isEmpty();
        }
    }
}
