package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.StoreException;
import dev.pgqueue.Uniqueness;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.postgres.UncheckedSQLException;
import dev.pgqueue.testing.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Dedupe keys, enforced by job_queue_dedupe_idx, on a real PostgreSQL under real concurrency. */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UniqueJobsTest {

    record Digest(String user) {}

    static final JobType<Digest> DIGEST = JobType.of("send-digest", Digest.class);
    static final JobType<Digest> REPORT = JobType.of("report", Digest.class);

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final ExecutorService threads = Executors.newFixedThreadPool(8);

    UniqueJobsTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
    }

    @BeforeEach
    void emptyQueue() {
        db.execute("DELETE FROM job_queue");
    }

    @AfterAll
    void stopThreads() {
        threads.shutdownNow();
    }

    private static EnqueueOptions key(String key) {
        return EnqueueOptions.defaults().dedupeKey(key);
    }

    private long jobs() {
        return db.queryForLong("SELECT count(*) FROM job_queue");
    }

    private String status(UUID id) {
        return (String) db.queryForList("SELECT status FROM job_queue WHERE id = ?", id).get(0).get("status");
    }

    @Nested
    class Enqueue {

        @Test
        void enqueue_withTheSameKeyTwice_returnsTheFirstJobsId_andEnqueuesNothing() {
            UUID first = queue.enqueue(DIGEST, new Digest("ann"), key("digest:ann"));
            UUID second = queue.enqueue(DIGEST, new Digest("ann, again"), key("digest:ann"));

            assertThat(second).isEqualTo(first);
            assertThat(jobs()).isEqualTo(1);
            assertThat(queue.find(first).orElseThrow().dedupeKey()).isEqualTo("digest:ann");
            assertThat(queue.find(first).orElseThrow().payloadJson()).contains("\"ann\"");
        }

        @Test
        void enqueueUnique_saysWhetherItEnqueued() {
            EnqueueResult first = queue.enqueueUnique(DIGEST, new Digest("ann"), key("digest:ann"));
            EnqueueResult second = queue.enqueueUnique(DIGEST, new Digest("ann"), key("digest:ann"));

            assertThat(first.duplicate()).isFalse();
            assertThat(second).isEqualTo(EnqueueResult.duplicateOf(first.jobId()));
        }

        @Test
        void theSameKey_onAnotherJobType_isAnotherJob() {
            UUID digest = queue.enqueue(DIGEST, new Digest("ann"), key("ann"));
            UUID report = queue.enqueue(REPORT, new Digest("ann"), key("ann"));

            assertThat(report).isNotEqualTo(digest);
            assertThat(jobs()).isEqualTo(2);
        }

        @Test
        void jobsWithoutKeys_areNeverDuplicates() {
            queue.enqueue(DIGEST, new Digest("ann"));
            queue.enqueue(DIGEST, new Digest("ann"));

            assertThat(jobs()).isEqualTo(2);
        }

        @Test
        void inACallersTransaction_theKeyIsHeldByTheJobEnqueuedEarlierInIt_andRollsBackWithIt() {
            jdbi.useHandle(handle -> {
                handle.begin();
                EnqueueResult first = queue.in(handle).enqueueUnique(DIGEST, new Digest("ann"), key("k"));
                EnqueueResult second = queue.in(handle).enqueueUnique(DIGEST, new Digest("ann"), key("k"));
                assertThat(second).isEqualTo(EnqueueResult.duplicateOf(first.jobId()));
                handle.rollback();
            });
            assertThat(jobs()).isZero();
            assertThat(queue.enqueueUnique(DIGEST, new Digest("ann"), key("k")).duplicate()).isFalse();
        }
    }

    @Nested
    class Races {

        @Test
        void eightThreads_enqueueingTheSameKeyAtOnce_enqueueOneJob_andAllGetItsId() throws Exception {
            for (int round = 0; round < 25; round++) {
                String key = "race-" + round;
                CyclicBarrier start = new CyclicBarrier(8);
                List<Future<EnqueueResult>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    results.add(threads.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return queue.enqueueUnique(DIGEST, new Digest("ann"), key(key));
                    }));
                }
                List<EnqueueResult> got = new ArrayList<>();
                for (Future<EnqueueResult> result : results) {
                    got.add(result.get(30, TimeUnit.SECONDS));
                }
                assertThat(got).filteredOn(r -> !r.duplicate()).as("round %d", round).hasSize(1);
                UUID winner = got.stream().filter(r -> !r.duplicate()).findFirst().orElseThrow().jobId();
                assertThat(got).extracting(EnqueueResult::jobId).as("round %d", round).containsOnly(winner);
                assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE dedupe_key = ?", key)).isEqualTo(1);
            }
        }

        @Test
        void aHolderNotYetCommitted_makesTheOtherEnqueueWait_thenReturnTheHoldersId() throws Exception {
            try (Handle holder = jdbi.open()) {
                holder.begin();
                UUID held = queue.in(holder).enqueue(DIGEST, new Digest("ann"), key("k"));
                CompletableFuture<EnqueueResult> other = CompletableFuture.supplyAsync(
                        () -> queue.enqueueUnique(DIGEST, new Digest("bob"), key("k")), threads);

                LockWaits.awaitBlockedBy(db, holder.getConnection());
                assertThat(other).as("waits for the holder's transaction").isNotDone();
                holder.commit();

                assertThat(other.get(10, TimeUnit.SECONDS)).isEqualTo(EnqueueResult.duplicateOf(held));
            }
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void aHolderThatRollsBack_letsTheWaitingEnqueueInsertItsOwnJob() throws Exception {
            try (Handle holder = jdbi.open()) {
                holder.begin();
                UUID held = queue.in(holder).enqueue(DIGEST, new Digest("ann"), key("k"));
                CompletableFuture<EnqueueResult> other = CompletableFuture.supplyAsync(
                        () -> queue.enqueueUnique(DIGEST, new Digest("bob"), key("k")), threads);
                LockWaits.awaitBlockedBy(db, holder.getConnection());
                holder.rollback();

                EnqueueResult result = other.get(10, TimeUnit.SECONDS);
                assertThat(result.duplicate()).isFalse();
                assertThat(result.jobId()).isNotEqualTo(held);
            }
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void inARepeatableReadTransaction_aHolderCommittedAfterItsSnapshot_isASerializationFailureToRetry() {
            try (Handle caller = jdbi.open()) {
                caller.begin();
                caller.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                caller.createQuery("SELECT count(*) FROM job_queue").mapTo(Long.class).one(); // takes the snapshot
                UUID held = queue.enqueue(DIGEST, new Digest("ann"), key("k"));                // commits meanwhile

                assertThatThrownBy(() -> queue.in(caller).enqueueUnique(DIGEST, new Digest("bob"), key("k")))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("[40001]");
                caller.rollback();
                assertThat(queue.enqueue(DIGEST, new Digest("bob"), key("k"))).as("retried").isEqualTo(held);
            }
        }

        @Test
        void fourThreads_bulkEnqueueingTheSameHundredKeysInDifferentOrders_enqueueEachOnce() throws Exception {
            List<String> keys = IntStream.range(0, 100).mapToObj(i -> "bulk-" + i).toList();
            CyclicBarrier start = new CyclicBarrier(4);
            List<Future<Map<String, EnqueueResult>>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                List<String> order = new ArrayList<>(keys);
                Collections.shuffle(order, new java.util.Random(t));
                Map<String, Digest> payloads = new LinkedHashMap<>();
                order.forEach(k -> payloads.put(k, new Digest(k)));
                results.add(threads.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return queue.enqueueAllUnique(DIGEST, payloads, EnqueueOptions.defaults());
                }));
            }
            List<Map<String, EnqueueResult>> got = new ArrayList<>();
            for (Future<Map<String, EnqueueResult>> result : results) {
                got.add(result.get(30, TimeUnit.SECONDS));
            }

            assertThat(jobs()).isEqualTo(100);
            for (String k : keys) {
                assertThat(got).extracting(m -> m.get(k).duplicate()).as(k).containsOnlyOnce(false);
                assertThat(got).extracting(m -> m.get(k).jobId()).as(k).containsOnly(got.get(0).get(k).jobId());
            }
        }
    }

    @Nested
    class Expiry {

        @Test
        void byDefault_aJobHoldsItsKeyWhilePendingOrProcessing_andNotOnceCompleted() {
            UUID first = queue.enqueue(DIGEST, new Digest("ann"), key("k"));
            try (Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(100))
                    .handler(DIGEST, (job, context) -> {
                        assertThat(queue.enqueue(DIGEST, new Digest("while running"), key("k"))).isEqualTo(first);
                        return JobOutcome.done();
                    }).build()) {
                worker.start();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(status(first)));
            }

            EnqueueResult after = queue.enqueueUnique(DIGEST, new Digest("ann"), key("k"));
            assertThat(after.duplicate()).as("no job had to run to release the key").isFalse();
            assertThat(jobs()).isEqualTo(2);
        }

        @Test
        void aCancelledJob_releasesItsKey_byDefault() {
            UUID first = queue.enqueue(DIGEST, new Digest("ann"), key("k"));
            assertThat(queue.cancel(first)).isTrue();

            assertThat(queue.enqueueUnique(DIGEST, new Digest("ann"), key("k")).duplicate()).isFalse();
        }

        @Test
        void withCompletedAmongTheStates_aCompletedJobKeepsItsKey_butAFailedOneDoesNot() {
            EnqueueOptions options = key("k").uniqueness(
                    Uniqueness.whileIn(JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.COMPLETED));
            UUID first = queue.enqueue(DIGEST, new Digest("ann"), options);
            db.execute("UPDATE job_queue SET status = 'completed', completed_at = now() WHERE id = ?", first);

            assertThat(queue.enqueueUnique(DIGEST, new Digest("ann"), options)).isEqualTo(EnqueueResult.duplicateOf(first));

            db.execute("UPDATE job_queue SET status = 'failed', completed_at = now() WHERE id = ?", first);
            assertThat(queue.enqueueUnique(DIGEST, new Digest("ann"), options).duplicate()).isFalse();
        }

        @Test
        void byPeriod_theKeyIsReleasedByTheFirstEnqueueAfterThePeriod() {
            TestClock clock = TestClock.at(Instant.parse("2030-01-01T00:00:00Z"));
            JdbiJobQueue timed = JdbiJobQueue.builder(store).clock(clock).build();
            EnqueueOptions hourly = key("export:ann").uniqueness(
                    Uniqueness.whileIn(JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.COMPLETED).forPeriod(Duration.ofHours(1)));
            UUID first = timed.enqueue(DIGEST, new Digest("ann"), hourly);
            db.execute("UPDATE job_queue SET status = 'completed', completed_at = ? WHERE id = ?",
                    java.sql.Timestamp.from(clock.instant()), first);

            clock.advance(Duration.ofMinutes(59));
            assertThat(timed.enqueueUnique(DIGEST, new Digest("ann"), hourly)).isEqualTo(EnqueueResult.duplicateOf(first));

            clock.advance(Duration.ofMinutes(1));
            EnqueueResult next = timed.enqueueUnique(DIGEST, new Digest("ann"), hourly);
            assertThat(next.duplicate()).isFalse();
            assertThat(db.queryForList("SELECT cardinality(unique_states) AS states FROM job_queue WHERE id = ?", first).get(0))
                    .containsEntry("states", 0);
            assertThat(timed.enqueueUnique(DIGEST, new Digest("ann"), hourly)).isEqualTo(EnqueueResult.duplicateOf(next.jobId()));
        }

        @Test
        void byPeriod_endsUniquenessEvenWhileTheJobIsStillPending() {
            TestClock clock = TestClock.at(Instant.parse("2030-01-01T00:00:00Z"));
            JdbiJobQueue timed = JdbiJobQueue.builder(store).clock(clock).build();
            EnqueueOptions tenMinutes = key("k").uniqueness(Uniqueness.DEFAULT.forPeriod(Duration.ofMinutes(10)));
            UUID first = timed.enqueue(DIGEST, new Digest("ann"), tenMinutes);

            clock.advance(Duration.ofMinutes(11));

            assertThat(timed.enqueueUnique(DIGEST, new Digest("ann"), tenMinutes).duplicate()).isFalse();
            assertThat(status(first)).isEqualTo("pending");
            assertThat(jobs()).isEqualTo(2);
        }
    }

    @Nested
    class Bulk {

        @Test
        void enqueueAllUnique_returnsNewAndExistingJobs_inTheMapsOrder() {
            UUID existing = queue.enqueue(DIGEST, new Digest("bob"), key("bob"));
            Map<String, Digest> payloads = new LinkedHashMap<>();
            payloads.put("cid", new Digest("cid"));
            payloads.put("bob", new Digest("bob"));
            payloads.put("ann", new Digest("ann"));

            Map<String, EnqueueResult> results = queue.enqueueAllUnique(DIGEST, payloads, EnqueueOptions.defaults().queue("mail"));

            assertThat(results.keySet()).containsExactly("cid", "bob", "ann");
            assertThat(results.get("bob")).isEqualTo(EnqueueResult.duplicateOf(existing));
            assertThat(results.get("cid").duplicate()).isFalse();
            assertThat(results.get("ann").duplicate()).isFalse();
            assertThat(jobs()).isEqualTo(3);
            assertThat(queue.find(results.get("ann").jobId()).orElseThrow().queue()).isEqualTo("mail");
        }

        @Test
        void enqueueAllUnique_inACallersTransaction_rollsBackWithIt() {
            jdbi.useHandle(handle -> {
                handle.begin();
                queue.in(handle).enqueueAllUnique(DIGEST, Map.of("a", new Digest("a"), "b", new Digest("b")), EnqueueOptions.defaults());
                handle.rollback();
            });
            assertThat(jobs()).isZero();
        }

        @Test
        void enqueueAllUnique_appliesTheOptionsUniqueness_toEveryJob() {
            EnqueueOptions evenCompleted = EnqueueOptions.defaults().uniqueness(Uniqueness.always());
            Map<String, EnqueueResult> first = queue.enqueueAllUnique(DIGEST, Map.of("a", new Digest("a")), evenCompleted);
            db.execute("UPDATE job_queue SET status = 'cancelled', completed_at = now()");

            Map<String, EnqueueResult> again = queue.enqueueAllUnique(DIGEST, Map.of("a", new Digest("a")), evenCompleted);

            assertThat(again.get("a")).isEqualTo(EnqueueResult.duplicateOf(first.get("a").jobId()));
        }
    }

    @Nested
    class SqlFunctions {

        private UUID uuid(String sql, Object... params) {
            return (UUID) db.queryForList(sql, params).get(0).values().iterator().next();
        }

        @Test
        void jobQueueEnqueue_callsWrittenForV1_stillWork() {
            UUID positional = uuid("SELECT job_queue_enqueue('send-digest', '{\"user\": \"ann\"}', 'default', 0, NULL, 3, NULL)");
            UUID named = uuid("SELECT job_queue_enqueue('send-digest', '{\"user\": \"bob\"}', max_retries => 5, user_id => NULL)");
            UUID minimal = uuid("SELECT job_queue_enqueue('send-digest')");

            assertThat(Set.of(positional, named, minimal)).hasSize(3);
            assertThat(jobs()).isEqualTo(3);
        }

        @Test
        void jobQueueEnqueue_withAKey_returnsTheHoldersId_evenOneEnqueuedFromJava() {
            UUID fromJava = queue.enqueue(DIGEST, new Digest("ann"), key("k"));

            assertThat(uuid("SELECT job_queue_enqueue('send-digest', '{\"user\": \"ann\"}', dedupe_key => 'k')")).isEqualTo(fromJava);
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void jobQueueEnqueueUnique_flagsTheDuplicate_andHonoursStatesAndPeriod() {
            Map<String, Object> first = db.queryForList(
                    "SELECT * FROM job_queue_enqueue_unique('send-digest', '{}', dedupe_key => 'k',"
                            + " unique_states => '{pending,processing,completed}', unique_for => '1 hour')").get(0);
            Map<String, Object> second = db.queryForList(
                    "SELECT * FROM job_queue_enqueue_unique('send-digest', '{}', dedupe_key => 'k')").get(0);

            assertThat(first).containsEntry("duplicate", false);
            assertThat(second).containsEntry("duplicate", true).containsEntry("job_id", first.get("job_id"));

            db.execute("UPDATE job_queue SET status = 'completed', completed_at = now(), unique_until = now() - interval '1 second'");
            Map<String, Object> third = db.queryForList(
                    "SELECT * FROM job_queue_enqueue_unique('send-digest', '{}', dedupe_key => 'k')").get(0);
            assertThat(third).containsEntry("duplicate", false);
        }

        @Test
        void aPlainInsertWithTheDocumentedOnConflict_isDeduplicatedToo() {
            String insert = "INSERT INTO job_queue (job_type, payload, dedupe_key) VALUES ('send-digest', '{}', 'k')"
                    + " ON CONFLICT (job_type, dedupe_key)"
                    + " WHERE dedupe_key IS NOT NULL AND status = ANY (coalesce(unique_states, '{pending,processing}'::text[]))"
                    + " DO NOTHING";
            assertThat(db.execute(insert)).isEqualTo(1);
            assertThat(db.execute(insert)).isZero();
            assertThat(queue.enqueueUnique(DIGEST, new Digest("x"), key("k")).duplicate()).isTrue();
        }

        @Test
        void badArguments_failWithTheLibrarysMessages_andWriteNothing() {
            assertThatThrownBy(() -> db.execute("SELECT * FROM job_queue_enqueue_unique('send-digest', '{}', dedupe_key => 'k', unique_states => '{completed}')"))
                    .isInstanceOf(UncheckedSQLException.class)
                    .hasMessageContaining("expected unique_states to be statuses among pending, processing, completed, failed and cancelled, including pending, got: {completed}");
            assertThatThrownBy(() -> db.execute("SELECT * FROM job_queue_enqueue_unique('send-digest', '{}')"))
                    .hasMessageContaining("expected dedupe_key to be 1-255 characters, got: null");
            assertThatThrownBy(() -> db.execute("SELECT job_queue_enqueue('send-digest', '{}', unique_for => '1 hour')"))
                    .hasMessageContaining("expected dedupe_key to be set when unique_states or unique_for is, got: null");
            assertThatThrownBy(() -> db.execute("SELECT job_queue_enqueue('send-digest', '{}', dedupe_key => repeat('x', 256))"))
                    .hasMessageContaining("expected dedupe_key to be 1-255 characters");
            assertThatThrownBy(() -> db.execute("SELECT job_queue_enqueue('send-digest', '{}', dedupe_key => 'k', unique_for => '0 seconds')"))
                    .hasMessageContaining("expected unique_for to be > 0, got: 00:00:00");
            assertThatThrownBy(() -> db.execute("INSERT INTO job_queue (job_type, dedupe_key, unique_states) VALUES ('a', 'k', '{completed}')"))
                    .hasMessageContaining("job_queue_unique_states_check");
            assertThat(jobs()).isZero();
        }
    }

    @Nested
    class BadInput {

        @Test
        void invalidKeysAndUniqueness_failBeforeAnythingIsWritten() {
            assertThatThrownBy(() -> EnqueueOptions.defaults().dedupeKey(""))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected dedupeKey to be 1-255 characters without \\u0000, got: \"\"");
            assertThatThrownBy(() -> EnqueueOptions.defaults().dedupeKey("x".repeat(256)))
                    .hasMessageStartingWith("expected dedupeKey to be 1-255 characters without \\u0000, got: \"xxx");
            assertThatThrownBy(() -> EnqueueOptions.defaults().dedupeKey("a\u0000b"))
                    .hasMessage("expected dedupeKey to be 1-255 characters without \\u0000, got: \"a\\u0000b\"");
            assertThatThrownBy(() -> Uniqueness.whileIn(JobStatus.COMPLETED))
                    .hasMessage("expected uniqueness states to be a set that includes PENDING (every job is enqueued pending), got: [COMPLETED]");
            assertThatThrownBy(() -> Uniqueness.DEFAULT.forPeriod(Duration.ZERO))
                    .hasMessage("expected uniqueness period to be > 0, got: PT0S");
            assertThat(jobs()).isZero();
        }

        @Test
        void keysWhereTheCallDoesNotTakeThem_areRejected_andNothingIsWritten() {
            assertThatThrownBy(() -> queue.enqueueUnique(DIGEST, new Digest("a"), EnqueueOptions.defaults()))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected options.dedupeKey to be set for enqueueUnique (EnqueueOptions.dedupeKey(key)), got: null");
            assertThatThrownBy(() -> queue.enqueueAll(DIGEST, List.of(new Digest("a"), new Digest("b")), key("k")))
                    .hasMessage("expected options.dedupeKey to be unset for enqueueAll (jobs cannot share one key;"
                            + " use enqueueAllUnique with a key per job), got: \"k\"");
            assertThatThrownBy(() -> queue.enqueue(DIGEST, new Digest("a"), EnqueueOptions.defaults().uniqueness(Uniqueness.always())))
                    .hasMessage("expected options.dedupeKey to be set when options.uniqueness is, got: null");
            assertThatThrownBy(() -> queue.enqueueAllUnique(DIGEST, Map.of("a", new Digest("a")), key("k")))
                    .hasMessage("expected options.dedupeKey to be unset for enqueueAllUnique (the map's keys are the dedupe keys), got: \"k\"");
            Map<String, Digest> withNull = new LinkedHashMap<>();
            withNull.put("a", new Digest("a"));
            withNull.put("b", null);
            assertThatThrownBy(() -> queue.enqueueAllUnique(DIGEST, withNull, EnqueueOptions.defaults()))
                    .hasMessage("expected payload of dedupe key b to be non-null, got: null");
            Map<String, Digest> badKey = new LinkedHashMap<>();
            badKey.put("a", new Digest("a"));
            badKey.put("", new Digest("b"));
            assertThatThrownBy(() -> queue.enqueueAllUnique(DIGEST, badKey, EnqueueOptions.defaults()))
                    .hasMessage("expected dedupe key to be 1-255 characters without \\u0000, got: \"\"");
            assertThat(jobs()).isZero();
        }

        @Test
        void aStoreFailureAfterPartOfABatchWasInserted_leavesNothingBehind() {
            // Through the SPI, past the API's checks: the plain job is inserted by the first statement,
            // then the keyed one's queue violates job_queue_queue_check in the second.
            List<dev.pgqueue.spi.JobStore.NewJob> jobs = List.of(
                    dev.pgqueue.spi.JobStore.NewJob.builder(UUID.randomUUID(), "send-digest", "{}").build(),
                    dev.pgqueue.spi.JobStore.NewJob.builder(UUID.randomUUID(), "send-digest", "{}")
                            .queue("no spaces allowed").dedupeKey("b").build());
            assertThatThrownBy(() -> store.jobInsertMany(new dev.pgqueue.spi.JobStore.InsertParams(jobs, null)))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("job_queue_queue_check");
            assertThat(jobs()).isZero();
        }
    }

    @Test
    void idsOfDuplicates_areTheHoldersEvenAcrossManyKeys() {
        Set<UUID> ids = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            ids.add(queue.enqueue(DIGEST, new Digest("x"), key("k" + (i % 5))));
        }
        assertThat(ids).hasSize(5);
        assertThat(jobs()).isEqualTo(5);
    }
}
