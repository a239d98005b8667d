package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JobRows.instant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.StoreException;
import dev.pgqueue.Worker;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Bulk enqueue through COPY ({@link CopyInsert}) against the same jobs through insert-many.sql: the
 * stored rows, the clock, the errors, atomicity, the caller's transaction and the NOTIFY must not
 * tell them apart. Every connection here comes through {@link CopyCounter}, so each test also knows
 * that COPY really ran (or really did not).
 */
@PostgresTest
class CopyInsertTest {

    record Note(String text) {}

    static final JobType<Note> NOTE = JobType.of("note", Note.class);
    static final int ABOVE = CopyInsert.DEFAULT_THRESHOLD;
    static final Instant NOW = Instant.parse("2030-05-06T07:08:09.123456Z");

    private final TestDatabase db;
    private final CopyCounter copies = new CopyCounter();
    private final Jdbi jdbi;
    /** The default threshold: COPY from {@value CopyInsert#DEFAULT_THRESHOLD} plain jobs on. */
    private final JdbiJobStore store;
    /** Never COPY: insert-many.sql, what every insert used before. */
    private final JdbiJobStore insertStore;
    private final JobRows rows;
    private UUID bystander;

    CopyInsertTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(copies.counting(db.dataSource()));
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.insertStore = JdbiJobStore.builder(jdbi).schema(db.schema()).copyThreshold(Integer.MAX_VALUE).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void oneBystanderJob() {
        rows.deleteAll();
        bystander = JdbiJobQueue.create(insertStore).enqueue(NOTE, new Note("bystander"));
        copies.reset();
    }

    // ---- jobs ----

    /**
     * Payload JSON that a wrong escaping would break or change: raw tabs, newlines and carriage
     * returns between tokens, escaped ones inside strings, backslashes, quotes, a line that reads
     * {@code \.} (COPY text's end of data), non-ASCII text and escapes. Job {@value #BIG_JOB} has a
     * payload of 200 KB instead, more than the 64 KB that are sent at a time.
     */
    static final List<String> PAYLOADS = List.of(
            "{\"text\": \"plain\"}",
            "{\n\t\"text\":\r\n  \"tab\\there\",\t\"n\": 1\n}",
            "{\"text\": \"back\\\\slash \\\\N \\\\t \\\\. end\\\\\"}",
            "{\"text\": \"line1\\n\\\\.\\nline3\"}",
            "[\n\"\\\\.\"\n,\n\"\\\\.\"]",
            "{\"quote\": \"\\\"quoted\\\"\", \"single\": \"it's\", \"bs\": \"C:\\\\dir\\\\\"}",
            "{\"text\": \"😀 👩‍👩‍👧‍👦 שלום مرحبا e\\u0301 \\ud83d\\ude00 \\u2028 \u00e9\"}",
            "{}",
            "[]",
            "\"just a string\"",
            "42");

    static final int BIG_JOB = 7;
    static final String BIG_PAYLOAD = "{\"text\": \"" + "x".repeat(200_000) + "\"}";

    /** {@code n} plain jobs, varied in every column the insert writes. */
    static List<NewJob> jobs(int n) {
        List<NewJob> jobs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            jobs.add(job(i, UuidV7.next(), "note", i == BIG_JOB ? BIG_PAYLOAD : PAYLOADS.get(i % PAYLOADS.size())));
        }
        return jobs;
    }

    static NewJob job(int i, UUID id, String type, String payload) {
        Instant runAt = switch (i % 4) {
            case 0 -> null;
            case 1 -> Instant.parse("2031-01-02T03:04:05Z");
            case 2 -> Instant.parse("2029-12-31T23:59:59.999999999Z").plusNanos(i); // rounded to microseconds
            default -> null;
        };
        Duration delay = switch (i % 3) {
            case 0 -> Duration.ZERO;
            case 1 -> Duration.ofMillis(1500);
            default -> Duration.ofDays(3).plusNanos(1_999); // truncated to microseconds
        };
        return NewJob.builder(id, type, payload).queue(i % 5 == 0 ? "bulk_other" : "default").priority((i % 7) - 3)
                .runAt(runAt).delay(delay).maxRetries(i % 11)
                .userId(i % 2 == 0 ? null : UUID.nameUUIDFromBytes(new byte[] {(byte) (i % 13)})).build();
    }

    /** The same jobs with new ids, so that they can be inserted again beside the first. */
    static List<NewJob> again(List<NewJob> jobs) {
        return jobs.stream().map(j -> NewJob.builder(UuidV7.next(), j.type(), j.payloadJson()).queue(j.queue())
                .priority(j.priority()).runAt(j.runAt()).delay(j.delay()).maxRetries(j.maxRetries()).userId(j.userId())
                .build()).toList();
    }

    private List<UUID> insert(JdbiJobStore into, List<NewJob> jobs, Instant now) {
        into.jobInsertMany(new InsertParams(jobs, now));
        return jobs.stream().map(NewJob::id).toList();
    }

    /** Every column but the id, of each job in {@code ids} in that order. */
    private List<Map<String, Object>> stored(List<UUID> ids, String... without) {
        Map<Object, Map<String, Object>> byId = new LinkedHashMap<>();
        for (Map<String, Object> row : rows.all()) {
            byId.put(row.get("id"), row);
        }
        List<Map<String, Object>> result = new ArrayList<>();
        for (UUID id : ids) {
            Map<String, Object> row = new LinkedHashMap<>(byId.get(id));
            row.remove("id");
            Arrays.asList(without).forEach(row::remove);
            result.add(row);
        }
        return result;
    }

    @Nested
    class SameRows {

        @Test
        void aboveTheThreshold_everyColumnIsStoredAsTheInsertStatementStoresIt_withAGivenNow() {
            List<NewJob> jobs = jobs(ABOVE);
            List<UUID> inserted = insert(insertStore, jobs, NOW);
            assertThat(copies.count()).isZero();
            List<UUID> copied = insert(store, again(jobs), NOW);
            assertThat(copies.count()).as("COPY ran once").isEqualTo(1);

            List<Map<String, Object>> expected = stored(inserted);
            assertThat(stored(copied)).containsExactlyElementsOf(expected);
            assertThat(expected.get(0)).containsEntry("status", "pending").containsEntry("created_at", java.sql.Timestamp.from(NOW));
            assertThat(expected.get(BIG_JOB).get("payload").toString()).as("the payload of 200 KB").hasSizeGreaterThan(200_000);
            assertThat(rows.count()).isEqualTo(1 + 2L * ABOVE);
        }

        @Test
        void aboveTheThreshold_withTheDatabaseClock_runAtAndCreatedAtAreTheInsertStatementsTime() {
            List<NewJob> jobs = jobs(ABOVE);
            List<UUID> inserted = insert(insertStore, jobs, null);
            List<UUID> copied = insert(store, again(jobs), null);
            assertThat(copies.count()).isEqualTo(1);

            List<Map<String, Object>> viaInsert = stored(inserted);
            assertThat(stored(copied, "created_at", "run_at")).containsExactlyElementsOf(stored(inserted, "created_at", "run_at"));
            for (List<Map<String, Object>> written : List.of(viaInsert, stored(copied))) {
                Instant createdAt = instant(written.get(0), "created_at");
                for (int i = 0; i < jobs.size(); i++) {
                    NewJob job = jobs.get(i);
                    assertThat(instant(written.get(i), "created_at")).as("one clock for the whole statement").isEqualTo(createdAt);
                    assertThat(instant(written.get(i), "run_at")).isEqualTo(job.runAt() != null
                            ? instant(viaInsert.get(i), "run_at") // explicit: as the database rounds it
                            : createdAt.plusNanos(JobStatements.micros(job.delay()) * 1_000));
                }
            }
        }

        @Test
        void inACallersTransaction_theDatabaseClockIsTheInsertStatementsNotTheTransactionsStart() {
            List<Instant> times = jdbi.inTransaction(handle -> {
                Instant started = handle.createQuery("SELECT now()").mapTo(Instant.class).one();
                handle.execute("SELECT pg_sleep(0.05)");
                store.bound(handle).jobInsertMany(new InsertParams(jobs(ABOVE), null));
                Instant after = handle.createQuery("SELECT clock_timestamp()").mapTo(Instant.class).one();
                return List.of(started, after);
            });
            assertThat(copies.count()).isEqualTo(1);
            List<Object> createdAt = db.queryForList("SELECT DISTINCT created_at FROM job_queue WHERE id <> ?", bystander)
                    .stream().map(row -> row.get("created_at")).toList();
            assertThat(createdAt).hasSize(1);
            assertThat(((java.sql.Timestamp) createdAt.get(0)).toInstant())
                    .isAfter(times.get(0).plusMillis(50))
                    .isBefore(times.get(1));
        }

        @Test
        void belowTheThreshold_theInsertStatementRuns() {
            insert(store, jobs(ABOVE - 1), NOW);

            assertThat(copies.count()).isZero();
            assertThat(rows.count()).isEqualTo(ABOVE);
        }

        @Test
        void enqueueAll_aboveTheThreshold_returnsTheIdsInOrder_andStoresThePayloads() {
            List<Note> notes = new ArrayList<>();
            for (int i = 0; i < ABOVE; i++) {
                notes.add(new Note(i + "\t\\.\n\"" + i));
            }
            List<UUID> ids = JdbiJobQueue.create(store).enqueueAll(NOTE, notes, EnqueueOptions.defaults().queue("bulk"));

            assertThat(copies.count()).isEqualTo(1);
            assertThat(ids).hasSize(ABOVE).doesNotHaveDuplicates();
            for (int i : new int[] {0, 1, 2_500, ABOVE - 1}) {
                assertThat(rows.row(ids.get(i)).get("payload").toString())
                        .isEqualTo("{\"text\": \"" + i + "\\t\\\\.\\n\\\"" + i + "\"}");
            }
        }
    }

    /** One bad job among good ones; the {@code id} is that of the bad job, which the insert rejects. */
    enum Poison {
        JOB_TYPE_OUTSIDE_THE_CHECK,
        PAYLOAD_NOT_JSON,
        PAYLOAD_WITH_A_NUL_ESCAPE,
        NEGATIVE_MAX_RETRIES,
        ID_TAKEN,
        RUN_AT_OUT_OF_RANGE;

        NewJob spoil(NewJob job, UUID taken) {
            return switch (this) {
                case JOB_TYPE_OUTSIDE_THE_CHECK -> job(1, job.id(), "bad type; drop table job_queue", job.payloadJson());
                case PAYLOAD_NOT_JSON -> job(1, job.id(), job.type(), "{\"text\": \"unterminated}");
                case PAYLOAD_WITH_A_NUL_ESCAPE -> job(1, job.id(), job.type(), "{\"text\": \"a\\u0000b\"}");
                case NEGATIVE_MAX_RETRIES -> NewJob.builder(job.id(), job.type(), job.payloadJson()).queue(job.queue())
                        .maxRetries(-1).build();
                case ID_TAKEN -> job(1, taken, job.type(), job.payloadJson());
                case RUN_AT_OUT_OF_RANGE -> NewJob.builder(job.id(), job.type(), job.payloadJson()).queue(job.queue())
                        .runAt(Instant.parse("+300000-01-01T00:00:00Z")).build();
            };
        }

        String expected() {
            return switch (this) {
                case JOB_TYPE_OUTSIDE_THE_CHECK -> "job_queue_job_type_check";
                case PAYLOAD_NOT_JSON -> "invalid input syntax for type json";
                case PAYLOAD_WITH_A_NUL_ESCAPE -> "unsupported Unicode escape sequence";
                case NEGATIVE_MAX_RETRIES -> "job_queue_counts_check";
                case ID_TAKEN -> "job_queue_pkey";
                case RUN_AT_OUT_OF_RANGE -> "time zone displacement out of range";
            };
        }
    }

    @Nested
    class AllOrNothing {

        private static final int JOBS = 2_000;
        private final JdbiJobStore copyStore = JdbiJobStore.builder(jdbi).schema(db.schema()).copyThreshold(JOBS).build();

        private Throwable failure(JdbiJobStore into, List<NewJob> jobs) {
            Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> into.jobInsertMany(new InsertParams(jobs, NOW)));
            assertThat(thrown).isInstanceOf(StoreException.class);
            return thrown;
        }

        @ParameterizedTest
        @EnumSource(Poison.class)
        void oneBadJobIn2000_insertsNothing_andFailsExactlyAsTheInsertStatementDoes(Poison poison) {
            List<NewJob> jobs = new ArrayList<>(jobs(JOBS));
            jobs.set(1_234, poison.spoil(jobs.get(1_234), bystander));

            Throwable viaInsert = failure(insertStore, jobs);
            assertThat(copies.count()).isZero();
            Throwable viaCopy = failure(copyStore, jobs);
            assertThat(copies.count()).as("COPY ran, and the insert after it failed").isEqualTo(1);

            assertThat(viaCopy).hasMessageContaining(poison.expected()).hasMessage(viaInsert.getMessage());
            assertThat(((StoreException) viaCopy).isTransient()).isEqualTo(((StoreException) viaInsert).isTransient()).isFalse();
            assertThat(rows.count()).as("only the bystander").isEqualTo(1);
        }

        @Test
        void afterAFailure_theSameConnectionCopiesAgain() {
            HikariDataSource one = db.newDataSource("copy-one-connection", 1);
            try {
                JdbiJobStore single = JdbiJobStore.builder(Jdbi.create(copies.counting(one))).schema(db.schema())
                        .copyThreshold(JOBS).build();
                List<NewJob> jobs = new ArrayList<>(jobs(JOBS));
                jobs.set(JOBS - 1, Poison.ID_TAKEN.spoil(jobs.get(JOBS - 1), bystander));
                failure(single, jobs);

                insert(single, jobs(JOBS), NOW);

                assertThat(copies.count()).isEqualTo(2);
                assertThat(rows.count()).isEqualTo(1 + JOBS);
                assertThat(db.queryForLong("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'copy-one-connection'"
                        + " AND state <> 'idle'")).as("the connection went back to the pool idle, not in a transaction").isZero();
            } finally {
                one.close();
            }
        }
    }

    private static final class Rollback extends RuntimeException {
        Rollback() {
            super("roll back");
        }
    }

    @Nested
    class CallersTransaction {

        private final JdbiJobQueue queue = JdbiJobQueue.create(store);

        private List<Note> notes(int n) {
            List<Note> notes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                notes.add(new Note("n" + i));
            }
            return notes;
        }

        @Test
        void inAHandleThatRollsBack_nothingIsInserted() {
            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                queue.in(handle).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
                assertThat(handle.createQuery("SELECT count(*) FROM job_queue").mapTo(Long.class).one())
                        .as("visible inside the transaction").isEqualTo(1L + ABOVE);
                throw new Rollback();
            })).isInstanceOf(Rollback.class);

            assertThat(copies.count()).isEqualTo(1);
            assertThat(rows.count()).isEqualTo(1);
        }

        @Test
        void inAConnectionThatRollsBack_nothingIsInserted() throws SQLException {
            try (Connection c = copies.counting(db.dataSource()).getConnection()) {
                c.setAutoCommit(false);
                queue.in(c).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
                c.rollback();
                c.setAutoCommit(true);
            }
            assertThat(copies.count()).isEqualTo(1);
            assertThat(rows.count()).isEqualTo(1);
        }

        @Test
        void twiceInOneTransaction_bothCommitWithTheCallersWork() {
            jdbi.useTransaction(handle -> {
                queue.in(handle).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
                queue.in(handle).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
            });
            assertThat(copies.count()).isEqualTo(2);
            assertThat(rows.count()).isEqualTo(1 + 2L * ABOVE);
            assertThat(db.queryForLong("SELECT count(*) FROM pg_class WHERE relname = 'pgqueue_enqueue_staging'"))
                    .as("no staging table outlives its transaction").isZero();
        }

        @Test
        void onAConnectionInAutocommitMode_commitsAtOnce_andLeavesItInAutocommitMode() throws SQLException {
            try (Connection c = copies.counting(db.dataSource()).getConnection()) {
                queue.in(c).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
                assertThat(c.getAutoCommit()).isTrue();
            }
            assertThat(copies.count()).isEqualTo(1);
            assertThat(rows.count()).isEqualTo(1 + ABOVE);
        }

        @Test
        void inAReadOnlyTransaction_failsAsTheInsertStatementDoes_notOnTheStagingTable() {
            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                handle.execute("SET TRANSACTION READ ONLY");
                queue.in(handle).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
            })).isInstanceOf(StoreException.class).hasMessageContaining("cannot execute INSERT in a read-only transaction");
            assertThat(copies.count()).isZero();
            assertThat(rows.count()).isEqualTo(1);
        }

        @Test
        void whenTheCallerHasATableOfTheStagingTablesName_theInsertStatementRuns_andTheirTableIsUntouched() {
            jdbi.useTransaction(handle -> {
                handle.execute("CREATE TEMP TABLE pgqueue_enqueue_staging (mine text) ON COMMIT DROP");
                handle.execute("INSERT INTO pg_temp.pgqueue_enqueue_staging VALUES ('kept')");
                queue.in(handle).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
                assertThat(handle.createQuery("SELECT mine FROM pg_temp.pgqueue_enqueue_staging").mapTo(String.class).list())
                        .containsExactly("kept");
            });
            assertThat(copies.count()).isZero();
            assertThat(rows.count()).isEqualTo(1 + ABOVE);
        }

        @Test
        void onAConnectionThatIsNotPgjdbcs_theInsertStatementRuns() throws SQLException {
            try (Connection c = copies.hidingPgjdbc(db.dataSource().getConnection())) {
                queue.in(c).enqueueAll(NOTE, notes(ABOVE), EnqueueOptions.defaults());
            }
            assertThat(copies.count()).isZero();
            assertThat(rows.count()).isEqualTo(1 + ABOVE);
        }
    }

    @Nested
    class Notify {

        @Test
        void theInsertTriggerNotifiesOncePerQueue() throws Exception {
            try (Connection listener = DriverManager.getConnection(db.jdbcUrl()); Statement st = listener.createStatement()) {
                st.execute("LISTEN job_queue_" + db.schema());
                drain(listener);

                insert(store, jobs(ABOVE), null); // queues 'default' and 'bulk_other'

                assertThat(copies.count()).isEqualTo(1);
                List<String> payloads = new ArrayList<>();
                await().atMost(Duration.ofSeconds(5)).until(() -> {
                    payloads.addAll(drain(listener));
                    return payloads.size() >= 2;
                });
                Thread.sleep(200);
                payloads.addAll(drain(listener));
                assertThat(payloads).containsExactlyInAnyOrder("default", "bulk_other");
            }
        }

        private List<String> drain(Connection listener) throws SQLException {
            try (Statement st = listener.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                // a round trip, so that notifications that arrived are read
            }
            PGNotification[] notifications = listener.unwrap(PGConnection.class).getNotifications();
            List<String> payloads = new ArrayList<>();
            if (notifications != null) {
                Arrays.stream(notifications).forEach(n -> payloads.add(n.getParameter()));
            }
            return payloads;
        }

        @Test
        void anIdleWorkerOfAnotherProcess_isWokenWithinMilliseconds() {
            Set<UUID> started = java.util.concurrent.ConcurrentHashMap.newKeySet();
            HikariDataSource workerPool = db.newDataSource("copy-wake", 4);
            // A store of its own: only the database's NOTIFY, not this process's announcement, can wake it.
            JdbiJobStore workerStore = JdbiJobStore.builder(Jdbi.create(workerPool)).schema(db.schema()).build();
            Worker worker = Worker.builder(workerStore).queue("bulk", 10).pollInterval(Duration.ofSeconds(30))
                    .handler(NOTE, (job, context) -> {
                        started.add(job.id());
                        return JobOutcome.done();
                    })
                    .build();
            worker.start();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> db.queryForLong("SELECT count(*) FROM pg_stat_activity"
                        + " WHERE application_name = 'copy-wake' AND query LIKE 'LISTEN%'") == 1);
                sleep(300); // the first claim round found nothing

                List<Note> notes = new ArrayList<>();
                for (int i = 0; i < ABOVE; i++) {
                    notes.add(new Note("wake " + i));
                }
                List<UUID> ids = JdbiJobQueue.create(store).enqueueAll(NOTE, notes, EnqueueOptions.defaults().queue("bulk"));

                assertThat(copies.count()).isEqualTo(1);
                // Far below the worker's poll, above what a loaded CI machine stalls.
                await().atMost(Duration.ofSeconds(10)).until(() -> started.contains(ids.get(0)));
            } finally {
                worker.close();
                workerPool.close();
            }
        }

        private static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Wraps connections so that a test can count how often pgjdbc's COPY API was taken from them, or
     * hide that they are pgjdbc's (as a pool or proxy that cannot unwrap would).
     */
    static final class CopyCounter {
        private final AtomicInteger copies = new AtomicInteger();

        int count() {
            return copies.get();
        }

        void reset() {
            copies.set(0);
        }

        DataSource counting(DataSource target) {
            return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                    (proxy, method, args) -> {
                        Object result = call(target, method, args);
                        return result instanceof Connection c ? counting(c) : result;
                    });
        }

        Connection counting(Connection target) {
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("unwrap") && args[0] == PGConnection.class) {
                            PGConnection pg = target.unwrap(PGConnection.class);
                            return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {PGConnection.class},
                                    (p, m, a) -> {
                                        if (m.getName().equals("getCopyAPI")) {
                                            copies.incrementAndGet();
                                        }
                                        return call(pg, m, a);
                                    });
                        }
                        return call(target, method, args);
                    });
        }

        Connection hidingPgjdbc(Connection target) {
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("isWrapperFor")) {
                            return false;
                        }
                        if (method.getName().equals("unwrap")) {
                            throw new SQLException("not a wrapper");
                        }
                        return call(target, method, args);
                    });
        }

        private static Object call(Object target, Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }
}
