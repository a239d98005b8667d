package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JobRows.instant;
import static dev.pgqueue.jdbi.Payloads.GENERATE_IMAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.StoreException;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.jdbi.Payloads.GenerateImage;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import dev.pgqueue.spi.JobStore.LeaseStatus;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.LeaseRef;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.spi.JobStore.RescuedJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.TestClock;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What is specific to {@link JdbiJobStore} on PostgreSQL: enqueueing through {@link JdbiJobQueue}
 * into the table's columns, the lease and cancellation columns, row locks held by other
 * transactions (SKIP LOCKED, NOWAIT), a statement failing inside a multi-statement outcome, text
 * PostgreSQL cannot store, and jsonb's normalised payload text. The store's contract, which every
 * store meets, is checked by {@link JdbiJobStoreConformanceTest}.
 */
@PostgresTest
class JdbiJobStoreTest {

    private static final String TYPE = "generate-image";
    private static final String QUEUE = EnqueueOptions.DEFAULT_QUEUE;
    private static final String WORKER = "worker-a";
    private static final Duration LEASE = Duration.ofSeconds(30);

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final JobRows rows;
    private final TestClock clock = TestClock.at(Instant.parse("2031-03-14T09:26:53.589793Z"));

    JdbiJobStoreTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.queue = JdbiJobQueue.builder(store).clock(clock).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void emptyTable() {
        rows.deleteAll();
    }

    // ---- helpers: each writes through the store, with the test clock's time ----

    private UUID insert(String type, String queueName, int priority, Instant runAt, int maxRetries) {
        NewJob job = NewJob.builder(UuidV7.next(), type, "{\"n\": 1}").queue(queueName).priority(priority).runAt(runAt)
                .maxRetries(maxRetries).build();
        return store.jobInsertMany(new InsertParams(List.of(job), clock.instant())).get(0).jobId();
    }

    private UUID insert(int maxRetries) {
        return insert(TYPE, QUEUE, 0, null, maxRetries);
    }

    private UUID insert() {
        return insert(EnqueueOptions.DEFAULT_MAX_RETRIES);
    }

    private List<ClaimedJob> claim(String queueName, Set<String> types, int limit, UUID token) {
        return store.jobClaim(new ClaimParams(queueName, types, limit, WORKER, token, LEASE, clock.instant()));
    }

    private List<ClaimedJob> claim(int limit) {
        return claim(QUEUE, Set.of(TYPE), limit, UUID.randomUUID());
    }

    /** Claims the one due job of the table and returns its lease token. */
    private UUID claimOnly(UUID id) {
        List<ClaimedJob> claimed = claim(10);
        assertThat(claimed).extracting(ClaimedJob::id).containsExactly(id);
        return claimed.get(0).leaseToken();
    }

    private List<FinishedJob> finish(Finish... finishes) {
        return store.jobFinishMany(new FinishParams(List.of(finishes), clock.instant()));
    }

    private static Finish complete(UUID id, UUID token) {
        return new Finish(id, token, FinishKind.COMPLETE, null, null);
    }

    private static Finish retry(UUID id, UUID token, String message, Duration delay) {
        return new Finish(id, token, FinishKind.RETRY, message, delay);
    }

    private List<RescuedJob> rescue(int limit) {
        return store.jobRescue(new RescueParams(limit, clock.instant()));
    }

    private static Set<UUID> ids(List<ClaimedJob> claimed) {
        return claimed.stream().map(ClaimedJob::id).collect(Collectors.toSet());
    }

    @Nested
    class Enqueue {

        @Test
        void enqueue_insertsOnePendingJobWithEveryColumnSet() {
            UUID user = UUID.randomUUID();
            Instant now = clock.instant();

            UUID id = queue.enqueue(GENERATE_IMAGE, new GenerateImage("img-1", 512), EnqueueOptions.defaults()
                    .queue("images").priority(-5).delay(Duration.ofSeconds(90)).maxRetries(7).userId(user));

            Map<String, Object> row = rows.row(id);
            assertThat(row.get("job_type")).isEqualTo("generate-image");
            assertThat(row.get("queue")).isEqualTo("images");
            assertThat(row.get("priority")).isEqualTo(-5);
            assertThat(instant(row, "run_at")).isEqualTo(now.plusSeconds(90));
            assertThat(row.get("max_retries")).isEqualTo(7);
            assertThat(row.get("user_id")).isEqualTo(user);
            assertThat(instant(row, "created_at")).isEqualTo(now);
            assertThat(row.get("status")).isEqualTo("pending");
            assertThat(row.get("attempt")).isEqualTo(0);
            assertThat(row.get("retry_count")).isEqualTo(0);
            assertThat(db.queryForList("select payload = '{\"imageId\": \"img-1\", \"size\": 512}'::jsonb as same"
                    + " from job_queue where id = ?", id)).containsExactly(Map.of("same", true));
            assertThat(row).containsEntry("error_message", null).containsEntry("processed_at", null)
                    .containsEntry("completed_at", null).containsEntry("lease_owner", null)
                    .containsEntry("lease_token", null).containsEntry("lease_expires_at", null)
                    .containsEntry("cancel_requested_at", null);
            assertThat(id.version()).isEqualTo(7);
            assertThat(id.variant()).isEqualTo(2);
        }

        @Test
        void enqueue_usesRunAtWhenGiven() {
            Instant runAt = clock.instant().plus(Duration.ofDays(3)).plusMillis(1);

            UUID id = queue.enqueue(GENERATE_IMAGE, new GenerateImage("img", 1), EnqueueOptions.defaults().runAt(runAt));

            assertThat(instant(rows.row(id), "run_at")).isEqualTo(runAt);
        }

        @Test
        void enqueue_withDefaultsIsDueNowOnTheDefaultQueue() {
            UUID id = queue.enqueue(GENERATE_IMAGE, new GenerateImage("img", 1));

            Map<String, Object> row = rows.row(id);
            assertThat(instant(row, "run_at")).isEqualTo(clock.instant());
            assertThat(row).containsEntry("queue", "default").containsEntry("priority", 0)
                    .containsEntry("max_retries", 3).containsEntry("user_id", null);
        }

        @Test
        void enqueue_withoutClockUsesTheDatabaseClock() {
            JdbiJobQueue databaseTimed = JdbiJobQueue.create(store);
            Instant before = databaseNow();

            UUID id = databaseTimed.enqueue(GENERATE_IMAGE, new GenerateImage("img", 1),
                    EnqueueOptions.defaults().delay(Duration.ofMinutes(5)));

            Instant after = databaseNow();
            Map<String, Object> row = rows.row(id);
            assertThat(instant(row, "created_at")).isBetween(before, after);
            assertThat(instant(row, "run_at")).isEqualTo(instant(row, "created_at").plus(Duration.ofMinutes(5)));
        }

        @Test
        void enqueueAll_insertsEveryJobAndReturnsIdsInOrder() {
            UUID user = UUID.randomUUID();
            List<GenerateImage> payloads = IntStream.range(0, 5).mapToObj(i -> new GenerateImage("img-" + i, i)).toList();
            Instant now = clock.instant();

            List<UUID> ids = queue.enqueueAll(GENERATE_IMAGE, payloads, EnqueueOptions.defaults()
                    .queue("bulk").priority(3).delay(Duration.ofMillis(1500)).maxRetries(0).userId(user));

            assertThat(ids).hasSize(5).doesNotHaveDuplicates();
            assertThat(ids).allSatisfy(id -> assertThat(id.version()).isEqualTo(7));
            assertThat(ids).isSortedAccordingTo(JdbiJobStoreTest::compareUnsigned);
            for (int i = 0; i < ids.size(); i++) {
                Map<String, Object> row = rows.row(ids.get(i));
                assertThat(db.queryForLong("select (payload->>'size')::int from job_queue where id = ?", ids.get(i)))
                        .isEqualTo(i);
                assertThat(row).containsEntry("job_type", "generate-image").containsEntry("queue", "bulk")
                        .containsEntry("priority", 3).containsEntry("max_retries", 0).containsEntry("user_id", user)
                        .containsEntry("status", "pending").containsEntry("attempt", 0).containsEntry("retry_count", 0);
                assertThat(instant(row, "run_at")).isEqualTo(now.plusMillis(1500));
                assertThat(instant(row, "created_at")).isEqualTo(now);
            }
            assertThat(rows.count()).isEqualTo(5);
        }

        @Test
        void enqueueAll_usesRunAtWhenGiven() {
            Instant runAt = clock.instant().plus(Duration.ofHours(2)).plusNanos(123_000);

            List<UUID> ids = queue.enqueueAll(GENERATE_IMAGE,
                    List.of(new GenerateImage("a", 1), new GenerateImage("b", 2)), EnqueueOptions.defaults().runAt(runAt));

            assertThat(ids).allSatisfy(id -> assertThat(instant(rows.row(id), "run_at")).isEqualTo(runAt));
        }

        @Test
        void enqueueAll_ofNothingInsertsNothing() {
            assertThat(queue.enqueueAll(GENERATE_IMAGE, List.of(), EnqueueOptions.defaults())).isEmpty();
            assertThat(rows.count()).isZero();
        }

        @Test
        void enqueue_givesIncreasingIdsAcrossCalls() {
            List<UUID> ids = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                ids.add(queue.enqueue(GENERATE_IMAGE, new GenerateImage("img", i)));
            }

            assertThat(ids).isSortedAccordingTo(JdbiJobStoreTest::compareUnsigned).doesNotHaveDuplicates();
            // The database orders uuids the same way: insertion order is id order.
            assertThat(db.queryForList("select id from job_queue order by id")).extracting(r -> r.get("id"))
                    .containsExactlyElementsOf(ids);
        }
    }

    @Nested
    class Claim {

        @Test
        void claim_setsProcessingLeaseAndAttempt() {
            UUID user = UUID.randomUUID();
            UUID id = queue.enqueue(GENERATE_IMAGE, new GenerateImage("img", 7), EnqueueOptions.defaults()
                    .priority(2).maxRetries(4).userId(user));
            Instant enqueuedAt = clock.instant();
            Instant now = clock.advance(Duration.ofSeconds(3));
            UUID token = UUID.randomUUID();

            List<ClaimedJob> claimed = claim(QUEUE, Set.of(TYPE), 10, token);

            Map<String, Object> row = rows.row(id);
            assertThat(row).containsEntry("status", "processing").containsEntry("attempt", 1)
                    .containsEntry("retry_count", 0).containsEntry("lease_owner", WORKER)
                    .containsEntry("lease_token", token);
            assertThat(instant(row, "processed_at")).isEqualTo(now);
            assertThat(instant(row, "lease_expires_at")).isEqualTo(now.plus(LEASE));
            assertThat(claimed).containsExactly(new ClaimedJob(id, TYPE, QUEUE, "{\"size\": 7, \"imageId\": \"img\"}",
                    1, 0, 4, 2, enqueuedAt, enqueuedAt, user, token, now.plus(LEASE), now, Map.of()));
        }

        @Test
        void claim_skipsJobsLockedByAnotherWorker() throws Exception {
            UUID locked = insert(TYPE, QUEUE, -1, null, 3);
            UUID free = insert(TYPE, QUEUE, 0, null, 3);

            try (Connection other = db.dataSource().getConnection()) {
                other.setAutoCommit(false);
                try (PreparedStatement lock = other.prepareStatement("select id from job_queue where id = ? for update")) {
                    lock.setObject(1, locked);
                    try (ResultSet rs = lock.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                    }
                }

                assertThat(ids(notBlockedBy(other, () -> claim(10)))).containsExactly(free);
                assertThat(rows.row(locked)).containsEntry("status", "pending").containsEntry("attempt", 0);

                other.rollback();
            }
            assertThat(ids(claim(10))).containsExactly(locked);
        }

    }

    @Nested
    class Complete {

        @Test
        void finish_recordsAllOutcomesOrNone() {
            UUID completed = insert();
            UUID failing = insert();
            UUID token = UUID.randomUUID();
            assertThat(claim(QUEUE, Set.of(TYPE), 2, token)).hasSize(2);
            List<Map<String, Object>> before = rows.all();
            // The second statement of the call (RETRY, after COMPLETE) fails in the database.
            db.execute("create function explode() returns trigger language plpgsql as $$ begin"
                    + " if new.error_message = 'explode' then raise exception 'exploded'; end if; return new; end $$");
            db.execute("create trigger explode before update on job_queue for each row execute function explode()");
            try {
                assertThatThrownBy(() -> finish(complete(completed, token), retry(failing, token, "explode", Duration.ZERO)))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("exploded");
            } finally {
                db.execute("drop trigger explode on job_queue");
                db.execute("drop function explode()");
            }

            assertThat(rows.all()).isEqualTo(before);
        }

    }

    @Nested
    class Retry {

        @Test
        void retry_storesAMessageThatHoldsANulCharacter() {
            UUID id = insert();
            UUID token = claimOnly(id);

            List<FinishedJob> finished = finish(retry(id, token, "bad byte \u0000 in input", Duration.ZERO));

            assertThat(finished).extracting(FinishedJob::status).containsExactly(JobStatus.PENDING);
            assertThat(rows.row(id)).containsEntry("error_message", "bad byte \\u0000 in input");
        }
    }

    @Nested
    class ExtendLease {

        @Test
        void extendLease_movesTheLeaseExpiresAtColumn() {
            UUID id = insert();
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(20));

            store.jobExtendLeaseMany(new ExtendLeaseParams(List.of(new LeaseRef(id, token)), Duration.ofMinutes(2), now));

            assertThat(instant(rows.row(id), "lease_expires_at")).isEqualTo(now.plus(Duration.ofMinutes(2)));
        }

        @Test
        void extendLease_skipsARowLockedByAnotherTransaction_neitherExtendedNorLost() throws Exception {
            UUID id = insert();
            UUID token = claimOnly(id);
            Map<String, Object> before = rows.row(id);
            try (java.sql.Connection other = db.dataSource().getConnection()) {
                other.setAutoCommit(false);
                try (var lock = other.prepareStatement("SELECT 1 FROM job_queue WHERE id = ? FOR UPDATE")) {
                    lock.setObject(1, id);
                    lock.executeQuery().close();
                }
                List<LeaseStatus> statuses = java.util.concurrent.CompletableFuture.supplyAsync(() -> store.jobExtendLeaseMany(
                                new ExtendLeaseParams(List.of(new LeaseRef(id, token)), LEASE, clock.instant())))
                        .get(10, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(statuses).as("never waits for the lock, reports nothing for that row").isEmpty();
                other.rollback();
            }
            assertThat(rows.row(id)).isEqualTo(before);
        }
    }

    @Nested
    class Rescue {

        @Test
        void rescue_skipsALeaseWhoseCompletionIsBeingCommitted() throws Exception {
            UUID id = insert();
            UUID token = claimOnly(id);
            clock.advance(LEASE.plusSeconds(5));

            try (Connection completer = db.dataSource().getConnection()) {
                completer.setAutoCommit(false);
                assertThat(store.bound(completer).jobFinishMany(new FinishParams(List.of(complete(id, token)),
                        clock.instant()))).hasSize(1);

                assertThat(notBlockedBy(completer, () -> rescue(10))).isEmpty();

                completer.commit();
            }
            assertThat(rescue(10)).isEmpty();
            assertThat(rows.row(id)).containsEntry("status", "completed").containsEntry("retry_count", 0);
        }
    }

    @Nested
    class ProducerCancel {

        @Test
        void cancel_ofAPendingJobLeavesNoRequestBehind() {
            UUID id = insert();
            Instant now = clock.advance(Duration.ofSeconds(1));

            assertThat(store.jobCancel(new CancelParams(id, now))).isEqualTo(CancelResult.CANCELLED);

            Map<String, Object> row = rows.row(id);
            assertThat(row).containsEntry("status", "cancelled").containsEntry("cancel_requested_at", null);
            assertThat(instant(row, "completed_at")).isEqualTo(now);
        }

        @Test
        void cancel_ofAProcessingJobStampsTheRequest() {
            UUID id = insert();
            claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(1));

            assertThat(store.jobCancel(new CancelParams(id, now))).isEqualTo(CancelResult.REQUESTED);

            Map<String, Object> row = rows.row(id);
            assertThat(row).containsEntry("status", "processing").containsEntry("completed_at", null);
            assertThat(instant(row, "cancel_requested_at")).isEqualTo(now);
        }

        @Test
        void cancel_throughTheQueue_refusesAFinalJobAndChangesNothing() {
            UUID id = insert();
            finish(complete(id, claimOnly(id)));
            Map<String, Object> before = rows.row(id);

            assertThat(queue.cancel(id)).isFalse();

            assertThat(rows.row(id)).isEqualTo(before);
        }
    }

    @Nested
    class Get {

        @Test
        void jobGet_returnsTheRow() {
            UUID user = UUID.randomUUID();
            UUID id = queue.enqueue(GENERATE_IMAGE, new GenerateImage("img", 3),
                    EnqueueOptions.defaults().queue("images").priority(4).maxRetries(2).userId(user));
            Instant enqueuedAt = clock.instant();
            UUID token = claim("images", Set.of(TYPE), 1, UUID.randomUUID()).get(0).leaseToken();
            Instant failedAt = clock.advance(Duration.ofSeconds(1));
            store.jobFinishMany(new FinishParams(List.of(retry(id, token, "boom", Duration.ofSeconds(9))), failedAt));

            JobSnapshot snapshot = store.jobGet(id).orElseThrow();

            assertThat(snapshot).isEqualTo(new JobSnapshot(id, TYPE, "images", JobStatus.PENDING,
                    "{\"size\": 3, \"imageId\": \"img\"}", 4, 1, 1, 2, failedAt.plusSeconds(9), enqueuedAt,
                    enqueuedAt, null, "boom", user, null, null, null));
            assertThat(queue.find(id)).contains(snapshot);
        }

    }

    /**
     * Runs {@code work}, which must not wait for the row locks that {@code lockHolder}'s open
     * transaction holds. If it does, the test fails (and rolls the holder back, so nothing hangs).
     */
    private static <T> T notBlockedBy(Connection lockHolder, Callable<T> work) throws Exception {
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            return thread.submit(work).get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            lockHolder.rollback();
            throw new AssertionError("waited 10 s for rows that another transaction holds locked", e);
        } finally {
            thread.shutdown();
        }
    }

    private Instant databaseNow() {
        return ((Timestamp) db.queryForList("select clock_timestamp() as now").get(0).get("now")).toInstant();
    }

    /** The order PostgreSQL gives uuids: unsigned, byte by byte. */
    static int compareUnsigned(UUID a, UUID b) {
        int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return high != 0 ? high : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }
}
