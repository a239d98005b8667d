package dev.pgqueue.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueOptions.DependencyFailure;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.ValidationException;
import dev.pgqueue.internal.RetryPolicies;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.ClaimByIdParams;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.LatestDedupeKeyParams;
import dev.pgqueue.spi.JobStore.LeaseRef;
import dev.pgqueue.spi.JobStore.LeaseStatus;
import dev.pgqueue.spi.JobStore.ListParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.NextDueParams;
import dev.pgqueue.spi.JobStore.ProgressParams;
import dev.pgqueue.spi.JobStore.ProgressUpdate;
import dev.pgqueue.spi.JobStore.PruneParams;
import dev.pgqueue.spi.JobStore.ReportedProgress;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.spi.JobStore.RescuedJob;
import dev.pgqueue.spi.JobStore.QueuePauseParams;
import dev.pgqueue.spi.JobStore.StoreListener;
import dev.pgqueue.spi.JobStore.Subscription;
import dev.pgqueue.spi.JobStore.UnservedJobs;
import dev.pgqueue.spi.JobStore.UnservedParams;
import dev.pgqueue.spi.JobStore.WorkerBeat;
import dev.pgqueue.spi.JobStore.WorkerBeatParams;
import dev.pgqueue.spi.JobStore.WorkerParams;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The {@link JobStore} contract as tests: every storage module runs them against its store, as
 * River's driver test suite does for its drivers. Extend it, return an empty store from
 * {@link #newStore()}, and run the subclass with JUnit Jupiter (5.x or 6.x); the tests are
 * {@code @Nested} per SPI operation and named after the behaviour they check.
 *
 * <pre>{@code
 * class MyJobStoreConformanceTest extends JobStoreConformance {
 *     protected JobStore newStore() { return MyJobStore.empty(); }
 * }
 * }</pre>
 *
 * <p>Time is the suite's {@link TestClock}, passed to the store as every operation's {@code now}; a
 * store must take that time instead of its own whenever it is given. The clock starts far from the
 * real time, so that a statement that ignores it shows. Concurrency is checked with real threads.
 *
 * <p>"Changes nothing" is checked by comparing what {@link #state(UUID)} and {@link #allState()}
 * return before and after; by default that is what the SPI reads ({@code jobGet}, {@code jobList}).
 * A store that keeps more than that (lease columns, say) overrides them to include it.
 */
public abstract class JobStoreConformance {

    /** The job type most tests use. */
    protected static final String TYPE = "generate-image";
    /** The queue most tests use. */
    protected static final String QUEUE = EnqueueOptions.DEFAULT_QUEUE;
    /** The worker id of the suite's claims. */
    protected static final String WORKER = "worker-a";
    /** The lease duration of the suite's claims. */
    protected static final Duration LEASE = Duration.ofSeconds(30);
    /** Where the clock starts: far from the database's own time, in whole microseconds. */
    protected static final Instant START = Instant.parse("2031-03-14T09:26:53.589793Z");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The test's clock; every operation gets its time. */
    protected final TestClock clock = TestClock.at(START);
    private JobStore store;

    /** Creates the suite; subclasses say how to make a store. */
    protected JobStoreConformance() {}

    /**
     * A store without any job (and without queue policies) for one test. Called once before each
     * test; it may return the same store each time once it has emptied it.
     *
     * @return an empty store
     */
    protected abstract JobStore newStore();

    /**
     * Everything the store keeps about job {@code id}, compared by "changes nothing" checks. Default: its {@code jobGet}.
     *
     * @param id the job's id
     * @return a value whose {@code equals} tells whether the job changed
     */
    protected Object state(UUID id) {
        return store.jobGet(id).orElse(null);
    }

    /**
     * Everything the store keeps about every job, compared by "changes nothing" checks. Default: {@code jobList} of all jobs.
     *
     * @return a value whose {@code equals} tells whether any job changed
     */
    protected Object allState() {
        return list(Set.of(), Set.of());
    }

    /**
     * The store under test, as {@link #newStore()} returned it for this test.
     *
     * @return the store
     */
    protected final JobStore store() {
        return store;
    }

    @BeforeEach
    final void createStore() {
        store = newStore();
    }

    // ---- helpers: each writes through the store, with the test clock's time ----

    /** A job to insert; the one place that builds a {@link NewJob}. */
    private static NewJob newJob(UUID id, String type, String queue, String payloadJson, int priority, Instant runAt,
            Duration delay, int maxRetries, UUID userId, String dedupeKey, List<UUID> dependsOn,
            DependencyFailure onDependencyFailure) {
        return NewJob.builder(id, type, payloadJson).queue(queue).priority(priority).runAt(runAt).delay(delay)
                .maxRetries(maxRetries).userId(userId).dedupeKey(dedupeKey).dependsOn(dependsOn)
                .onDependencyFailure(onDependencyFailure).build();
    }

    private static NewJob plainJob(String type, String queue, int priority, Instant runAt, int maxRetries) {
        return newJob(UuidV7.next(), type, queue, "{\"n\": 1}", priority, runAt, Duration.ZERO, maxRetries, null, null,
                List.of(), null);
    }

    private List<EnqueueResult> insertAll(NewJob... jobs) {
        return store.jobInsertMany(new InsertParams(List.of(jobs), clock.instant()));
    }

    private UUID insert(String type, String queueName, int priority, Instant runAt, int maxRetries) {
        return insertAll(plainJob(type, queueName, priority, runAt, maxRetries)).get(0).jobId();
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

    /** Claims the one due job and returns its lease token. */
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

    private JobSnapshot get(UUID id) {
        return store.jobGet(id).orElseThrow(() -> new AssertionError("expected job " + id + " to exist"));
    }

    private List<JobSnapshot> list(Set<String> types, Set<JobStatus> statuses) {
        return store.jobList(new ListParams(types, statuses, false, null, Integer.MAX_VALUE));
    }

    private List<UUID> idsWithStatus(JobStatus status) {
        return list(Set.of(), Set.of(status)).stream().map(JobSnapshot::id).toList();
    }

    private List<UUID> allIds() {
        return list(Set.of(), Set.of()).stream().map(JobSnapshot::id).toList();
    }

    private static Set<UUID> ids(List<ClaimedJob> claimed) {
        return claimed.stream().map(ClaimedJob::id).collect(Collectors.toSet());
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    @Nested
    class Insert {

        @Test
        void insert_storesOnePendingJobWithEveryFieldSet() {
            UUID user = UUID.randomUUID();
            UUID id = UuidV7.next();
            Instant now = clock.instant();

            List<EnqueueResult> results = insertAll(newJob(id, TYPE, "images", "{\"imageId\": \"img-1\", \"size\": 512}", -5,
                    null, Duration.ofSeconds(90), 7, user, null, List.of(), null));

            assertThat(results).extracting(EnqueueResult::jobId, EnqueueResult::duplicate).containsExactly(tuple(id, false));
            JobSnapshot job = get(id);
            assertThat(job.type()).isEqualTo(TYPE);
            assertThat(job.queue()).isEqualTo("images");
            assertThat(job.priority()).isEqualTo(-5);
            assertThat(job.runAt()).isEqualTo(now.plusSeconds(90));
            assertThat(job.maxRetries()).isEqualTo(7);
            assertThat(job.userId()).isEqualTo(user);
            assertThat(job.createdAt()).isEqualTo(now);
            assertThat(job.status()).isEqualTo(JobStatus.PENDING);
            assertThat(job.attempt()).isZero();
            assertThat(job.retryCount()).isZero();
            assertThat(json(job.payloadJson())).isEqualTo(json("{\"imageId\": \"img-1\", \"size\": 512}"));
            assertThat(job.errorMessage()).isNull();
            assertThat(job.processedAt()).isNull();
            assertThat(job.completedAt()).isNull();
            assertThat(job.resultJson()).isNull();
            assertThat(job.progress()).isNull();
        }

        @Test
        void insert_usesRunAtWhenGiven() {
            Instant runAt = clock.instant().plus(Duration.ofDays(3)).plusMillis(1);

            UUID id = insert(TYPE, QUEUE, 0, runAt, 3);

            assertThat(get(id).runAt()).isEqualTo(runAt);
        }

        @Test
        void insertMany_insertsEveryJobAndReturnsIdsInOrder() {
            List<NewJob> jobs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                jobs.add(newJob(UuidV7.next(), TYPE, "bulk", "{\"size\": " + i + "}", 3, null, Duration.ofMillis(1500), 0,
                        null, null, List.of(), null));
            }
            Instant now = clock.instant();

            List<EnqueueResult> results = store.jobInsertMany(new InsertParams(jobs, now));

            assertThat(results).extracting(EnqueueResult::jobId).containsExactlyElementsOf(jobs.stream().map(NewJob::id).toList());
            for (int i = 0; i < jobs.size(); i++) {
                JobSnapshot job = get(jobs.get(i).id());
                assertThat(json(job.payloadJson()).get("size").asInt()).isEqualTo(i);
                assertThat(job.queue()).isEqualTo("bulk");
                assertThat(job.priority()).isEqualTo(3);
                assertThat(job.status()).isEqualTo(JobStatus.PENDING);
                assertThat(job.runAt()).isEqualTo(now.plusMillis(1500));
                assertThat(job.createdAt()).isEqualTo(now);
            }
            assertThat(allIds()).hasSize(5);
        }

        @Test
        void insertMany_ofNothingInsertsNothing() {
            assertThat(store.jobInsertMany(new InsertParams(List.of(), clock.instant()))).isEmpty();
            assertThat(allIds()).isEmpty();
        }

        @Test
        void insert_withADedupeKeyAnotherJobHolds_returnsThatJobAsADuplicate() {
            NewJob first = newJob(UuidV7.next(), TYPE, QUEUE, "{}", 0, null, Duration.ZERO, 3, null, "key-1", List.of(), null);
            NewJob second = newJob(UuidV7.next(), TYPE, QUEUE, "{}", 0, null, Duration.ZERO, 3, null, "key-1", List.of(), null);
            NewJob other = newJob(UuidV7.next(), TYPE, QUEUE, "{}", 0, null, Duration.ZERO, 3, null, "key-2", List.of(), null);

            assertThat(insertAll(first)).extracting(EnqueueResult::jobId, EnqueueResult::duplicate)
                    .containsExactly(tuple(first.id(), false));
            assertThat(insertAll(second, other)).extracting(EnqueueResult::jobId, EnqueueResult::duplicate)
                    .containsExactly(tuple(first.id(), true), tuple(other.id(), false));
            assertThat(allIds()).containsExactlyInAnyOrder(first.id(), other.id());
            assertThat(get(first.id()).dedupeKey()).isEqualTo("key-1");
        }

        @Test
        void insert_withADedupeKeyOfAFinishedJob_insertsANewJob() {
            NewJob first = newJob(UuidV7.next(), TYPE, QUEUE, "{}", 0, null, Duration.ZERO, 3, null, "key-1", List.of(), null);
            insertAll(first);
            finish(complete(first.id(), claimOnly(first.id())));
            NewJob again = newJob(UuidV7.next(), TYPE, QUEUE, "{}", 0, null, Duration.ZERO, 3, null, "key-1", List.of(), null);

            assertThat(insertAll(again)).extracting(EnqueueResult::jobId, EnqueueResult::duplicate)
                    .containsExactly(tuple(again.id(), false));
        }

        @Test
        void insert_withDependencies_waitsUntilTheyHaveCompleted() {
            UUID first = insert();
            NewJob dependent = newJob(UuidV7.next(), "assemble", QUEUE, "{}", 0, null, Duration.ZERO, 3, null, null,
                    List.of(first), null);

            insertAll(dependent);

            assertThat(get(dependent.id()).status()).isEqualTo(JobStatus.WAITING);
            assertThat(store.jobDependencies(dependent.id())).extracting(JobSnapshot::id).containsExactly(first);
            finish(complete(first, claimOnly(first)));
            assertThat(get(dependent.id()).status()).isEqualTo(JobStatus.PENDING);
            assertThat(claim(QUEUE, Set.of("assemble"), 10, UUID.randomUUID())).extracting(ClaimedJob::id)
                    .containsExactly(dependent.id());
        }

        @Test
        void insert_withDependencies_onAJobOfTheSameInsert() {
            NewJob first = plainJob(TYPE, QUEUE, 0, null, 3);
            NewJob dependent = newJob(UuidV7.next(), "assemble", QUEUE, "{}", 0, null, Duration.ZERO, 3, null, null,
                    List.of(first.id()), null);

            insertAll(first, dependent);

            assertThat(get(first.id()).status()).isEqualTo(JobStatus.PENDING);
            assertThat(get(dependent.id()).status()).isEqualTo(JobStatus.WAITING);
        }

        @Test
        void insert_withADependencyThatFails_isCancelled() {
            UUID first = insert(0);
            NewJob dependent = newJob(UuidV7.next(), "assemble", QUEUE, "{}", 0, null, Duration.ZERO, 3, null, null,
                    List.of(first), DependencyFailure.CANCEL);
            insertAll(dependent);

            finish(new Finish(first, claimOnly(first), FinishKind.FAIL, "broken", null));

            assertThat(get(dependent.id()).status()).isEqualTo(JobStatus.CANCELLED);
        }

        @Test
        void insert_withAnUnknownDependency_failsAndInsertsNothing() {
            NewJob plain = plainJob(TYPE, QUEUE, 0, null, 3);
            NewJob dependent = newJob(UuidV7.next(), "assemble", QUEUE, "{}", 0, null, Duration.ZERO, 3, null, null,
                    List.of(UUID.randomUUID()), null);

            assertThatThrownBy(() -> insertAll(plain, dependent)).isInstanceOf(ValidationException.class);

            assertThat(allIds()).isEmpty();
        }
    }

    @Nested
    class Claim {

        @Test
        void claim_takesOnlyDuePendingJobsOfTheQueueAndTypes() {
            UUID due = insert(TYPE, QUEUE, 0, null, 3);
            UUID dueOtherType = insert("generate-complete-pack", QUEUE, 0, null, 3);
            insert("send-email", QUEUE, 0, null, 3);
            insert(TYPE, "other-queue", 0, null, 3);
            insert(TYPE, QUEUE, 0, clock.instant().plusMillis(1), 3);
            UUID alreadyDone = insert(TYPE, QUEUE, 0, clock.instant().minusSeconds(1), 3);
            finish(complete(alreadyDone, claimOnlyFirst(alreadyDone)));

            List<ClaimedJob> claimed = claim(QUEUE, Set.of(TYPE, "generate-complete-pack"), 100, UUID.randomUUID());

            assertThat(ids(claimed)).containsExactlyInAnyOrder(due, dueOtherType);
            assertThat(idsWithStatus(JobStatus.PROCESSING)).containsExactlyInAnyOrder(due, dueOtherType);
        }

        /** Claims {@code id}, which must be the first in claim order; leaves other due jobs pending. */
        private UUID claimOnlyFirst(UUID id) {
            List<ClaimedJob> claimed = claim(1);
            assertThat(claimed).extracting(ClaimedJob::id).containsExactly(id);
            return claimed.get(0).leaseToken();
        }

        @Test
        void claim_takesAJobOnceItsRunAtHasCome() {
            UUID later = insert(TYPE, QUEUE, 0, clock.instant().plusSeconds(10), 3);
            assertThat(claim(10)).isEmpty();

            clock.advance(Duration.ofSeconds(10));

            assertThat(ids(claim(10))).containsExactly(later);
        }

        @Test
        void claim_ordersByPriorityThenRunAtAndRespectsTheLimit() {
            Instant now = clock.instant();
            UUID lowPriorityOld = insert(TYPE, QUEUE, 5, now.minusSeconds(100), 3);
            UUID highPriorityNew = insert(TYPE, QUEUE, -1, now.minusSeconds(1), 3);
            UUID normalOld = insert(TYPE, QUEUE, 0, now.minusSeconds(50), 3);
            UUID normalNew = insert(TYPE, QUEUE, 0, now.minusSeconds(10), 3);

            assertThat(ids(claim(1))).containsExactly(highPriorityNew);
            assertThat(ids(claim(2))).containsExactlyInAnyOrder(normalOld, normalNew);
            assertThat(ids(claim(2))).containsExactly(lowPriorityOld);
            assertThat(claim(2)).isEmpty();
        }

        @Test
        void claim_respectsTheLimit() {
            for (int i = 0; i < 7; i++) {
                insert();
            }

            assertThat(claim(3)).hasSize(3);
            assertThat(idsWithStatus(JobStatus.PROCESSING)).hasSize(3);
            assertThat(idsWithStatus(JobStatus.PENDING)).hasSize(4);
        }

        @Test
        void claim_setsProcessingLeaseAndAttempt() {
            UUID user = UUID.randomUUID();
            UUID id = insertAll(newJob(UuidV7.next(), TYPE, QUEUE, "{\"imageId\": \"img\", \"size\": 7}", 2, null,
                    Duration.ZERO, 4, user, null, List.of(), null)).get(0).jobId();
            Instant enqueuedAt = clock.instant();
            Instant now = clock.advance(Duration.ofSeconds(3));
            UUID token = UUID.randomUUID();

            List<ClaimedJob> claimed = claim(QUEUE, Set.of(TYPE), 10, token);

            JobSnapshot job = get(id);
            assertThat(job.status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(job.attempt()).isEqualTo(1);
            assertThat(job.retryCount()).isZero();
            assertThat(job.processedAt()).isEqualTo(now);
            assertThat(claimed).hasSize(1);
            assertThat(json(claimed.get(0).payloadJson())).isEqualTo(json("{\"imageId\": \"img\", \"size\": 7}"));
            assertThat(claimed.get(0)).usingRecursiveComparison().ignoringFields("payloadJson")
                    .isEqualTo(new ClaimedJob(id, TYPE, QUEUE, null, 1, 0, 4, 2, enqueuedAt, enqueuedAt, user, token,
                            now.plus(LEASE), now, java.util.Map.of()));
        }

        @Test
        void claim_returnsTheTraceContextEachJobWasInsertedWith() {
            java.util.Map<String, String> context = java.util.Map.of("traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate", "vendor=a1");
            NewJob plain = plainJob(TYPE, QUEUE, 0, null, 3).toBuilder().traceContext(context).build();
            NewJob keyed = plainJob(TYPE, QUEUE, 1, null, 3).toBuilder().dedupeKey("traced").traceContext(context).build();
            NewJob without = plainJob(TYPE, QUEUE, 2, null, 3);
            insertAll(plain, keyed, without);

            List<ClaimedJob> claimed = claim(QUEUE, Set.of(TYPE), 10, UUID.randomUUID());

            java.util.Map<UUID, java.util.Map<String, String>> byId = new java.util.HashMap<>();
            claimed.forEach(job -> byId.put(job.id(), job.traceContext()));
            assertThat(byId).containsOnlyKeys(plain.id(), keyed.id(), without.id());
            assertThat(byId.get(plain.id())).isEqualTo(context);
            assertThat(byId.get(keyed.id())).isEqualTo(context);
            assertThat(byId.get(without.id())).isEmpty();
            assertThat(claimed).allSatisfy(job -> assertThat(job.claimedAt()).isEqualTo(clock.instant()));
        }

        @Test
        void claim_countsEveryRunInAttempt() {
            UUID id = insert();
            finish(retry(id, claimOnly(id), "boom", Duration.ZERO));
            finish(new Finish(id, claimOnly(id), FinishKind.SNOOZE, null, Duration.ZERO));

            List<ClaimedJob> third = claim(10);

            assertThat(third).extracting(ClaimedJob::attempt, ClaimedJob::retryCount).containsExactly(tuple(3, 1));
            assertThat(get(id)).extracting(JobSnapshot::attempt, JobSnapshot::retryCount).containsExactly(3, 1);
        }

        @Test
        void claim_withNothingDueChangesNothing() {
            insert(TYPE, QUEUE, 0, clock.instant().plusSeconds(1), 3);
            Object before = allState();

            assertThat(claim(10)).isEmpty();

            assertThat(allState()).isEqualTo(before);
        }

        @Test
        void claim_byConcurrentWorkers_neverTakesAJobTwice() throws Exception {
            int jobs = 200;
            for (int i = 0; i < jobs; i++) {
                insert();
            }
            int workers = 8;
            ExecutorService threads = Executors.newFixedThreadPool(workers);
            CountDownLatch start = new CountDownLatch(1);
            try {
                List<Future<List<UUID>>> claims = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    claims.add(threads.submit(() -> {
                        start.await();
                        List<UUID> mine = new ArrayList<>();
                        List<ClaimedJob> batch;
                        while (!(batch = claim(5)).isEmpty()) {
                            batch.forEach(job -> mine.add(job.id()));
                        }
                        return mine;
                    }));
                }
                start.countDown();
                List<UUID> claimed = new ArrayList<>();
                for (Future<List<UUID>> worker : claims) {
                    claimed.addAll(worker.get(60, TimeUnit.SECONDS));
                }

                assertThat(claimed).hasSize(jobs).doesNotHaveDuplicates();
                assertThat(idsWithStatus(JobStatus.PROCESSING)).hasSize(jobs);
            } finally {
                threads.shutdownNow();
            }
        }
    }

    @Nested
    class ClaimById {

        @Test
        void claimById_claimsAPendingJobEvenBeforeItIsDue() {
            UUID id = insert(TYPE, "elsewhere", 0, clock.instant().plusSeconds(60), 3);
            UUID token = UUID.randomUUID();

            ClaimedJob claimed = store.jobClaimById(new ClaimByIdParams(id, WORKER, token, LEASE, clock.instant())).orElseThrow();

            assertThat(claimed.id()).isEqualTo(id);
            assertThat(claimed.attempt()).isEqualTo(1);
            assertThat(claimed.leaseToken()).isEqualTo(token);
            assertThat(claimed.leaseExpiresAt()).isEqualTo(clock.instant().plus(LEASE));
            assertThat(get(id).status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(finish(complete(id, token))).extracting(FinishedJob::status).containsExactly(JobStatus.COMPLETED);
        }

        @Test
        void claimById_ofAJobThatIsNotPendingChangesNothing() {
            UUID id = insert();
            claimOnly(id);
            Object before = state(id);

            assertThat(store.jobClaimById(new ClaimByIdParams(id, WORKER, UUID.randomUUID(), LEASE, clock.instant()))).isEmpty();
            assertThat(store.jobClaimById(new ClaimByIdParams(UUID.randomUUID(), WORKER, UUID.randomUUID(), LEASE,
                    clock.instant()))).isEmpty();

            assertThat(state(id)).isEqualTo(before);
        }
    }

    @Nested
    class Complete {

        @Test
        void complete_marksTheJobCompleted() {
            UUID id = insert();
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(4));

            List<FinishedJob> finished = finish(complete(id, token));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.COMPLETED, 0));
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::attempt, JobSnapshot::retryCount, JobSnapshot::errorMessage)
                    .containsExactly(JobStatus.COMPLETED, 1, 0, null);
            assertThat(job.completedAt()).isEqualTo(now);
        }

        @Test
        void complete_storesTheResult() {
            UUID id = insert();
            UUID token = claimOnly(id);

            finish(new Finish(id, token, FinishKind.COMPLETE, null, null, "{\"url\": \"https://cdn/cat.png\"}", null));

            assertThat(json(get(id).resultJson())).isEqualTo(json("{\"url\": \"https://cdn/cat.png\"}"));
        }

        @Test
        void complete_ofAJobAProducerAskedToCancel_endsItCancelled_andDropsTheResult() {
            UUID id = insert();
            UUID token = claimOnly(id);
            assertThat(store.jobCancel(new CancelParams(id, clock.instant()))).isEqualTo(CancelResult.REQUESTED);

            List<FinishedJob> finished = finish(new Finish(id, token, FinishKind.COMPLETE, null, Duration.ZERO,
                    "{\"shipped\": true}", null));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.CANCELLED, 0));
            assertThat(get(id)).extracting(JobSnapshot::status, JobSnapshot::resultJson, JobSnapshot::errorMessage)
                    .containsExactly(JobStatus.CANCELLED, null,
                            "cancelled by a producer while running; the handler's result was dropped");
        }

        @Test
        void complete_recordsManyOutcomesInOneCall() {
            UUID first = insert();
            UUID second = insert();
            UUID third = insert();
            UUID token = UUID.randomUUID();
            assertThat(claim(QUEUE, Set.of(TYPE), 3, token)).hasSize(3);

            List<FinishedJob> finished = finish(complete(first, token), complete(second, token),
                    new Finish(third, token, FinishKind.FAIL, "bad input", null));

            assertThat(finished).containsExactlyInAnyOrder(new FinishedJob(first, JobStatus.COMPLETED, 0),
                    new FinishedJob(second, JobStatus.COMPLETED, 0), new FinishedJob(third, JobStatus.FAILED, 1));
            assertThat(idsWithStatus(JobStatus.COMPLETED)).hasSize(2);
            assertThat(get(third)).extracting(JobSnapshot::status, JobSnapshot::errorMessage)
                    .containsExactly(JobStatus.FAILED, "bad input");
        }

        @Test
        void complete_ofAJobThatIsNotProcessingChangesNothing() {
            UUID id = insert();
            Object before = allState();

            assertThat(finish(complete(id, UUID.randomUUID()))).isEmpty();

            assertThat(allState()).isEqualTo(before);
        }
    }

    @Nested
    class Retry {

        @Test
        void retry_followsTheRetryPolicyUntilMaxRetriesThenFails() {
            RetryPolicy policy = RetryPolicy.exponential(Duration.ofSeconds(2), Duration.ofMinutes(10));
            UUID id = insert(3);

            for (int retry = 1; retry <= 3; retry++) {
                UUID token = claimOnly(id);
                Instant failedAt = clock.advance(Duration.ofMillis(250));
                Duration delay = RetryPolicies.delay(policy, retry);

                List<FinishedJob> finished = finish(retry(id, token, "attempt " + retry + " failed", delay));

                assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.PENDING, retry));
                JobSnapshot job = get(id);
                assertThat(job).extracting(JobSnapshot::status, JobSnapshot::retryCount, JobSnapshot::attempt,
                        JobSnapshot::errorMessage, JobSnapshot::completedAt)
                        .containsExactly(JobStatus.PENDING, retry, retry, "attempt " + retry + " failed", null);
                assertThat(job.runAt()).isEqualTo(failedAt.plus(delay.truncatedTo(ChronoUnit.MICROS)));
                if (!delay.truncatedTo(ChronoUnit.MICROS).isZero()) {
                    assertThat(claim(10)).as("not due before its delay has passed").isEmpty();
                }
                clock.set(job.runAt());
            }

            UUID token = claimOnly(id);
            Instant failedAt = clock.advance(Duration.ofSeconds(1));
            List<FinishedJob> finished = finish(retry(id, token, "attempt 4 failed", RetryPolicies.delay(policy, 4)));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.FAILED, 4));
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::attempt, JobSnapshot::errorMessage)
                    .containsExactly(JobStatus.FAILED, 4, "attempt 4 failed");
            assertThat(job.completedAt()).isEqualTo(failedAt);
            assertThat(claim(10)).isEmpty();
        }

        @Test
        void retry_withAFixedPolicyIsDueAfterThatDelay() {
            Duration delay = RetryPolicies.delay(RetryPolicy.fixed(Duration.ofSeconds(45)), 1);
            UUID id = insert();
            UUID token = claimOnly(id);

            finish(retry(id, token, "boom", delay));

            assertThat(get(id).runAt()).isEqualTo(clock.instant().plusSeconds(45));
            clock.advance(Duration.ofSeconds(45).minusNanos(1000));
            assertThat(claim(10)).isEmpty();
            clock.advance(Duration.ofNanos(1000));
            assertThat(ids(claim(10))).containsExactly(id);
        }

        @Test
        void retry_withNoRetriesAllowedFailsTheFirstTime() {
            UUID id = insert(0);
            UUID token = claimOnly(id);

            List<FinishedJob> finished = finish(retry(id, token, "boom", Duration.ofSeconds(5)));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.FAILED, 1));
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::errorMessage).containsExactly(JobStatus.FAILED, "boom");
            assertThat(job.completedAt()).isEqualTo(clock.instant());
        }
    }

    @Nested
    class Fail {

        @Test
        void fail_failsTheJobAtOnceWhateverRetriesRemain() {
            UUID id = insert(10);
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(2));

            List<FinishedJob> finished = finish(new Finish(id, token, FinishKind.FAIL, "payload is unusable", null));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.FAILED, 1));
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::retryCount, JobSnapshot::maxRetries, JobSnapshot::errorMessage)
                    .containsExactly(JobStatus.FAILED, 1, 10, "payload is unusable");
            assertThat(job.completedAt()).isEqualTo(now);
        }
    }

    @Nested
    class Snooze {

        @Test
        void snooze_makesTheJobPendingLaterWithoutCountingAFailure() {
            UUID id = insert();
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(1));

            List<FinishedJob> finished = finish(new Finish(id, token, FinishKind.SNOOZE, null, Duration.ofMinutes(3)));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.PENDING, 0));
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::retryCount, JobSnapshot::attempt, JobSnapshot::completedAt)
                    .containsExactly(JobStatus.PENDING, 0, 1, null);
            assertThat(job.runAt()).isEqualTo(now.plus(Duration.ofMinutes(3)));
            assertThat(claim(10)).isEmpty();
            clock.advance(Duration.ofMinutes(3));
            assertThat(claim(10)).extracting(ClaimedJob::attempt).containsExactly(2);
        }
    }

    @Nested
    class CancelOutcome {

        @Test
        void cancelOutcome_endsTheJobCancelled() {
            UUID id = insert();
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(1));

            List<FinishedJob> finished = finish(new Finish(id, token, FinishKind.CANCEL, "user deleted the project", null));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.CANCELLED, 0));
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::retryCount, JobSnapshot::errorMessage)
                    .containsExactly(JobStatus.CANCELLED, 0, "user deleted the project");
            assertThat(job.completedAt()).isEqualTo(now);
            assertThat(claim(10)).isEmpty();
        }
    }

    @Nested
    class Release {

        @Test
        void release_handsTheJobBackWithoutCountingTheAttempt() {
            UUID id = insert();
            UUID token = claimOnly(id);
            clock.advance(Duration.ofSeconds(1));

            List<FinishedJob> finished = finish(new Finish(id, token, FinishKind.RELEASE, null, null));

            assertThat(finished).containsExactly(new FinishedJob(id, JobStatus.PENDING, 0));
            assertThat(get(id)).extracting(JobSnapshot::status, JobSnapshot::attempt, JobSnapshot::retryCount, JobSnapshot::completedAt)
                    .containsExactly(JobStatus.PENDING, 0, 0, null);
            assertThat(claim(10)).as("due again at once").extracting(ClaimedJob::attempt).containsExactly(1);
        }
    }

    @Nested
    class ExtendLease {

        @Test
        void extendLease_movesTheExpiryOfAHeldLease() {
            UUID id = insert();
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(20));

            List<LeaseStatus> held = store.jobExtendLeaseMany(
                    new ExtendLeaseParams(List.of(new LeaseRef(id, token)), Duration.ofMinutes(2), now));

            assertThat(held).containsExactly(new LeaseStatus(id, true, now.plus(Duration.ofMinutes(2)), false));
            clock.advance(Duration.ofMinutes(2).minusNanos(1000));
            assertThat(rescue(10)).as("not expired before the extended lease ends").isEmpty();
            clock.advance(Duration.ofNanos(2000));
            assertThat(rescue(10)).extracting(RescuedJob::id).containsExactly(id);
        }

        @Test
        void extendLease_withAnotherTokenReportsTheLeaseLostAndChangesNothing() {
            UUID id = insert();
            claimOnly(id);
            Object before = state(id);

            List<LeaseStatus> held = store.jobExtendLeaseMany(new ExtendLeaseParams(
                    List.of(new LeaseRef(id, UUID.randomUUID())), Duration.ofMinutes(2), clock.advance(LEASE)));

            assertThat(held).containsExactly(new LeaseStatus(id, false, null, false));
            assertThat(state(id)).isEqualTo(before);
        }

        @Test
        void extendLease_reportsACancellationRequest() {
            UUID id = insert();
            UUID token = claimOnly(id);
            store.jobCancel(new CancelParams(id, clock.instant()));

            List<LeaseStatus> held = store.jobExtendLeaseMany(
                    new ExtendLeaseParams(List.of(new LeaseRef(id, token)), LEASE, clock.instant()));

            assertThat(held).extracting(LeaseStatus::cancelRequested).containsExactly(true);
        }
    }

    @Nested
    class Rescue {

        @Test
        void rescue_returnsAnExpiredLeaseToPendingAsAFailedAttempt() {
            UUID id = insert();
            Instant expiry = claim(10).get(0).leaseExpiresAt();
            Instant now = clock.advance(LEASE.plusMillis(1));

            List<RescuedJob> rescued = rescue(10);

            assertThat(rescued).containsExactly(new RescuedJob(id, TYPE, QUEUE, JobStatus.PENDING, WORKER, 1));
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::retryCount, JobSnapshot::attempt, JobSnapshot::completedAt)
                    .containsExactly(JobStatus.PENDING, 1, 1, null);
            assertThat(job.runAt()).isEqualTo(now);
            assertThat(job.errorMessage())
                    .contains("lease expired")
                    .contains(WORKER)
                    .contains("attempt 1")
                    .contains(String.valueOf(expiry.atOffset(ZoneOffset.UTC).getYear()));
            assertThat(ids(claim(10))).containsExactly(id);
        }

        @Test
        void rescue_failsAJobWithNoRetriesLeft() {
            UUID id = insert(1);
            finish(retry(id, claimOnly(id), "first failure", Duration.ZERO));
            claimOnly(id);
            Instant now = clock.advance(LEASE.plusSeconds(1));

            List<RescuedJob> rescued = rescue(10);

            assertThat(rescued).extracting(RescuedJob::status).containsExactly(JobStatus.FAILED);
            JobSnapshot job = get(id);
            assertThat(job).extracting(JobSnapshot::status, JobSnapshot::retryCount).containsExactly(JobStatus.FAILED, 2);
            assertThat(job.errorMessage()).contains("lease expired");
            assertThat(job.completedAt()).isEqualTo(now);
        }

        @Test
        void rescue_leavesUnexpiredLeasesAlone() {
            UUID id = insert();
            claimOnly(id);
            Object before = state(id);
            clock.advance(LEASE.minusNanos(1000));

            assertThat(rescue(10)).isEmpty();

            assertThat(state(id)).isEqualTo(before);
        }

        @Test
        void rescue_takesAtMostTheLimitOldestLeaseFirst() {
            List<UUID> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                UUID id = insert();
                ids.add(id);
                claimOnly(id);
                clock.advance(Duration.ofSeconds(1));
            }
            clock.advance(LEASE);

            assertThat(rescue(3)).extracting(RescuedJob::id).containsExactlyInAnyOrderElementsOf(ids.subList(0, 3));
            assertThat(get(ids.get(3)).status()).isEqualTo(JobStatus.PROCESSING);
        }

        @Test
        void rescue_neverOverwritesACompletionThatLandedFirst() {
            UUID id = insert();
            UUID token = claimOnly(id);
            clock.advance(LEASE.plusSeconds(5));
            assertThat(finish(complete(id, token))).as("a late completion still counts while nobody took the job")
                    .hasSize(1);
            Object completed = state(id);

            assertThat(rescue(10)).isEmpty();

            assertThat(state(id)).isEqualTo(completed);
            assertThat(get(id).status()).isEqualTo(JobStatus.COMPLETED);
        }
    }

    @Nested
    class Fencing {

        /** The job, claimed by a worker whose lease then expired; rescued and claimed again by another. */
        private UUID staleToken;
        private UUID id;

        @BeforeEach
        void claimRescueAndClaimAgain() {
            id = insert();
            staleToken = claimOnly(id);
            clock.advance(LEASE.plusSeconds(1));
            assertThat(rescue(10)).hasSize(1);
            assertThat(claimOnly(id)).isNotEqualTo(staleToken);
        }

        @Test
        void complete_withAStaleLeaseTokenChangesNothing() {
            Object before = state(id);

            assertThat(finish(complete(id, staleToken))).isEmpty();

            assertThat(state(id)).isEqualTo(before);
        }

        @Test
        void everyOutcome_withAStaleLeaseTokenChangesNothing() {
            Object before = state(id);

            assertThat(finish(retry(id, staleToken, "late failure", Duration.ZERO),
                    new Finish(id, staleToken, FinishKind.FAIL, "late", null))).isEmpty();
            assertThat(finish(new Finish(id, staleToken, FinishKind.SNOOZE, null, Duration.ZERO))).isEmpty();
            assertThat(finish(new Finish(id, staleToken, FinishKind.CANCEL, "late", null))).isEmpty();
            assertThat(finish(new Finish(id, staleToken, FinishKind.RELEASE, null, null))).isEmpty();

            assertThat(state(id)).isEqualTo(before);
        }

        @Test
        void extendLease_withAStaleLeaseTokenChangesNothing() {
            Object before = state(id);

            assertThat(store.jobExtendLeaseMany(new ExtendLeaseParams(List.of(new LeaseRef(id, staleToken)),
                    Duration.ofHours(1), clock.instant()))).extracting(LeaseStatus::held).containsExactly(false);

            assertThat(state(id)).isEqualTo(before);
        }

        @Test
        void progress_withAStaleLeaseTokenChangesNothing() {
            Object before = state(id);

            assertThat(store.jobProgressMany(new ProgressParams(List.of(new ProgressUpdate(id, staleToken,
                    new ReportedProgress(50, "late"))), clock.instant()))).isEmpty();

            assertThat(state(id)).isEqualTo(before);
        }

        @Test
        void complete_withAStaleLeaseTokenBeforeTheNextClaimChangesNothing() {
            UUID next = insert();
            UUID token = claimOnly(next);
            clock.advance(LEASE.plusSeconds(1));
            // `id` is processing under its second lease too, which has expired now as well.
            assertThat(rescue(10)).extracting(RescuedJob::id).containsExactlyInAnyOrder(id, next);
            Object before = state(next);

            assertThat(finish(complete(next, token))).isEmpty();

            assertThat(state(next)).isEqualTo(before);
            assertThat(get(next).status()).isEqualTo(JobStatus.PENDING);
        }
    }

    @Nested
    class Progress {

        @Test
        void progress_isRecordedUnderAHeldLease() {
            UUID id = insert();
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(2));

            List<UUID> written = store.jobProgressMany(new ProgressParams(List.of(new ProgressUpdate(id, token,
                    new ReportedProgress(40, "rendering page 2 of 5"))), now));

            assertThat(written).containsExactly(id);
            assertThat(get(id).progress()).isEqualTo(new JobSnapshot.Progress(40, "rendering page 2 of 5", now));
        }

        @Test
        void progress_pendingWithAnOutcome_isWrittenWithIt() {
            UUID id = insert();
            UUID token = claimOnly(id);

            finish(new Finish(id, token, FinishKind.COMPLETE, null, null, null, new ReportedProgress(100, "done")));

            assertThat(get(id).progress()).extracting(JobSnapshot.Progress::percent, JobSnapshot.Progress::message)
                    .containsExactly(100, "done");
        }
    }

    @Nested
    class ProducerCancel {

        @Test
        void cancel_cancelsAPendingJob() {
            UUID id = insert();
            Instant now = clock.advance(Duration.ofSeconds(1));

            CancelResult result = store.jobCancel(new CancelParams(id, now));

            assertThat(result).isEqualTo(CancelResult.CANCELLED);
            JobSnapshot job = get(id);
            assertThat(job.status()).isEqualTo(JobStatus.CANCELLED);
            assertThat(job.errorMessage()).contains("cancelled");
            assertThat(job.completedAt()).isEqualTo(now);
            assertThat(claim(10)).isEmpty();
        }

        @Test
        void cancel_recordsARequestOnAProcessingJob() {
            UUID id = insert();
            UUID token = claimOnly(id);
            Instant now = clock.advance(Duration.ofSeconds(1));

            CancelResult result = store.jobCancel(new CancelParams(id, now));

            assertThat(result).isEqualTo(CancelResult.REQUESTED);
            JobSnapshot job = get(id);
            assertThat(job.status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(job.completedAt()).isNull();
            assertThat(store.jobExtendLeaseMany(new ExtendLeaseParams(List.of(new LeaseRef(id, token)), LEASE, now)))
                    .extracting(LeaseStatus::cancelRequested).containsExactly(true);
        }

        @Test
        void cancel_refusesAFinalJobAndChangesNothing() {
            UUID id = insert();
            finish(complete(id, claimOnly(id)));
            Object before = state(id);

            assertThat(store.jobCancel(new CancelParams(id, clock.instant()))).isEqualTo(CancelResult.NOT_CANCELLABLE);

            assertThat(state(id)).isEqualTo(before);
        }

        @Test
        void cancel_ofAnUnknownJobIsNotCancellable() {
            assertThat(store.jobCancel(new CancelParams(UUID.randomUUID(), null))).isEqualTo(CancelResult.NOT_CANCELLABLE);
        }
    }

    @Nested
    class Prune {

        private final Duration retention = Duration.ofHours(1);

        private UUID finished(FinishKind kind) {
            UUID id = insert();
            UUID token = claimOnly(id);
            finish(new Finish(id, token, kind, "why", null));
            return id;
        }

        @Test
        void prune_deletesOnlyListedFinalStatusesOlderThanTheRetention() {
            UUID oldCompleted = finished(FinishKind.COMPLETE);
            UUID oldFailed = finished(FinishKind.FAIL);
            UUID oldCancelled = finished(FinishKind.CANCEL);
            UUID oldPending = insert("not-handled-here", QUEUE, 0, null, 3);
            UUID oldProcessing = insert();
            claimOnly(oldProcessing);
            clock.advance(retention.plusSeconds(1));
            UUID recentCompleted = finished(FinishKind.COMPLETE);

            int deleted = store.jobPrune(new PruneParams(
                    EnumSet.of(JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.PENDING, JobStatus.PROCESSING),
                    retention, 100, clock.instant()));

            assertThat(deleted).isEqualTo(2);
            assertThat(allIds()).containsExactlyInAnyOrder(oldCancelled, oldPending, oldProcessing, recentCompleted)
                    .doesNotContain(oldCompleted, oldFailed);
        }

        @Test
        void prune_neverDeletesUnfinishedJobs() {
            insert("not-handled-here", QUEUE, 0, null, 3);
            claimOnly(insert());
            clock.advance(Duration.ofDays(365));

            int deleted = store.jobPrune(new PruneParams(EnumSet.allOf(JobStatus.class), Duration.ZERO, 100, clock.instant()));

            assertThat(deleted).isZero();
            assertThat(allIds()).hasSize(2);
        }

        @Test
        void prune_deletesAtMostTheLimitOldestFirst() {
            List<UUID> ids = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                ids.add(finished(FinishKind.COMPLETE));
                clock.advance(Duration.ofSeconds(1));
            }
            clock.advance(retention);

            int deleted = store.jobPrune(new PruneParams(EnumSet.of(JobStatus.COMPLETED), retention, 2, clock.instant()));

            assertThat(deleted).isEqualTo(2);
            assertThat(allIds()).containsExactlyInAnyOrderElementsOf(ids.subList(2, 5));
        }
    }

    @Nested
    class Get {

        @Test
        void jobGet_returnsTheRow() {
            UUID user = UUID.randomUUID();
            UUID id = insertAll(newJob(UuidV7.next(), TYPE, "images", "{\"imageId\": \"img\", \"size\": 3}", 4, null,
                    Duration.ZERO, 2, user, null, List.of(), null)).get(0).jobId();
            Instant enqueuedAt = clock.instant();
            UUID token = claim("images", Set.of(TYPE), 1, UUID.randomUUID()).get(0).leaseToken();
            Instant failedAt = clock.advance(Duration.ofSeconds(1));
            store.jobFinishMany(new FinishParams(List.of(retry(id, token, "boom", Duration.ofSeconds(9))), failedAt));

            JobSnapshot snapshot = store.jobGet(id).orElseThrow();

            assertThat(json(snapshot.payloadJson())).isEqualTo(json("{\"imageId\": \"img\", \"size\": 3}"));
            assertThat(snapshot).usingRecursiveComparison().ignoringFields("payloadJson").isEqualTo(new JobSnapshot(id, TYPE,
                    "images", JobStatus.PENDING, null, 4, 1, 1, 2, failedAt.plusSeconds(9), enqueuedAt, enqueuedAt, null,
                    "boom", user, null, null, null));
        }

        @Test
        void jobGet_ofAnUnknownIdIsEmpty() {
            insert();

            assertThat(store.jobGet(UUID.randomUUID())).isEmpty();
        }
    }

    @Nested
    class ListJobs {

        @Test
        void jobList_filtersByTypeStatusAndDueTime_oldestFirst() {
            UUID first = insert();
            clock.advance(Duration.ofSeconds(1));
            UUID later = insert(TYPE, QUEUE, 0, clock.instant().plusSeconds(30), 3);
            clock.advance(Duration.ofSeconds(1));
            UUID otherType = insert("send-email", QUEUE, 0, null, 3);
            clock.advance(Duration.ofSeconds(1));
            UUID claimed = insert();
            store.jobClaimById(new ClaimByIdParams(claimed, WORKER, UUID.randomUUID(), LEASE, clock.instant()));

            assertThat(allIds()).containsExactly(first, later, otherType, claimed);
            assertThat(list(Set.of(TYPE), Set.of())).extracting(JobSnapshot::id).containsExactly(first, later, claimed);
            assertThat(list(Set.of(TYPE), Set.of(JobStatus.PENDING))).extracting(JobSnapshot::id).containsExactly(first, later);
            assertThat(store.jobList(new ListParams(Set.of(), Set.of(JobStatus.PENDING), true, clock.instant(), 10)))
                    .extracting(JobSnapshot::id).containsExactly(first, otherType);
            assertThat(store.jobList(new ListParams(Set.of(), Set.of(), false, null, 2)))
                    .extracting(JobSnapshot::id).containsExactly(first, later);
        }
    }

    @Nested
    class NextDue {

        @Test
        void nextDue_isTheTimeUntilTheEarliestFutureJobOfTheQueueAndTypes() {
            Instant now = clock.instant();
            insert(TYPE, QUEUE, 0, now.plusSeconds(40), 3);
            insert(TYPE, QUEUE, 0, now.plusSeconds(25), 3);
            insert(TYPE, QUEUE, 0, now.minusSeconds(5), 3);
            insert(TYPE, "other-queue", 0, now.plusSeconds(1), 3);
            insert("other-type", QUEUE, 0, now.plusSeconds(2), 3);

            assertThat(store.jobNextDue(new NextDueParams(QUEUE, Set.of(TYPE), now))).contains(Duration.ofSeconds(25));
        }

        @Test
        void nextDue_isEmptyWhenNothingIsWaiting() {
            insert(TYPE, QUEUE, 0, clock.instant().minusSeconds(5), 3);

            assertThat(store.jobNextDue(new NextDueParams(QUEUE, Set.of(TYPE), clock.instant()))).isEmpty();
        }
    }

    @Nested
    class LatestDedupeKey {

        @Test
        void latestDedupeKey_isTheGreatestHeldKeyWithThePrefixUpToTheBound() {
            for (String key : List.of("tick:2030-01-01T00:01", "tick:2030-01-01T00:03", "tick:2030-01-01T00:02", "other:9")) {
                insertAll(newJob(UuidV7.next(), TYPE, QUEUE, "{}", 0, null, Duration.ZERO, 3, null, key, List.of(), null));
            }

            assertThat(store.jobLatestDedupeKey(new LatestDedupeKeyParams(TYPE, "tick:"))).contains("tick:2030-01-01T00:03");
            assertThat(store.jobLatestDedupeKey(new LatestDedupeKeyParams(TYPE, "tick:", "tick:2030-01-01T00:02")))
                    .contains("tick:2030-01-01T00:02");
            assertThat(store.jobLatestDedupeKey(new LatestDedupeKeyParams("send-email", "tick:"))).isEmpty();
        }
    }

    @Nested
    class QueuePause {

        @Test
        void pause_listsTheQueueAsPaused_andResumeUnlistsIt_eachSayingWhetherItChangedAnything() {
            assertThat(store.queuePausedList()).isEmpty();

            assertThat(store.queuePause(new QueuePauseParams("mail", true))).isTrue();
            assertThat(store.queuePause(new QueuePauseParams("mail", true))).as("already paused").isFalse();
            assertThat(store.queuePausedList()).containsExactly("mail");

            assertThat(store.queuePause(new QueuePauseParams("mail", false))).isTrue();
            assertThat(store.queuePause(new QueuePauseParams("mail", false))).as("not paused").isFalse();
            assertThat(store.queuePausedList()).isEmpty();
        }

        @Test
        void pause_ofAnInvalidQueueName_isRejected_andPausesNothing() {
            assertThatThrownBy(() -> store.queuePause(new QueuePauseParams("no spaces; DROP TABLE job_queue", true)))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageContaining("queue");

            assertThat(store.queuePausedList()).isEmpty();
        }

        @Test
        void pause_leavesTheQueuesJobsPending_andEnqueueWorks() {
            UUID before = insert();
            store.queuePause(new QueuePauseParams(QUEUE, true));
            UUID after = insert();

            assertThat(get(before).status()).isEqualTo(JobStatus.PENDING);
            assertThat(get(after).status()).isEqualTo(JobStatus.PENDING);
        }

        @Test
        void pauseAndResume_tellSubscribersThatQueuesChanged() throws InterruptedException {
            AtomicInteger changes = new AtomicInteger();
            Subscription subscription = store.subscribe(new StoreListener() {
                @Override
                public void jobsAvailable(String queue) {}

                @Override
                public void cancelRequested(UUID jobId) {}

                @Override
                public void reconnected() {}

                @Override
                public void queuesChanged() {
                    changes.incrementAndGet();
                }
            });
            try {
                store.queuePause(new QueuePauseParams("mail", true));
                store.queuePause(new QueuePauseParams("mail", false));

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (changes.get() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(changes.get()).as("queuesChanged() calls").isGreaterThanOrEqualTo(2);
            } finally {
                subscription.close();
            }
        }
    }

    @Nested
    class WorkerRegistry {

        private static final Duration PRESENCE = Duration.ofSeconds(2);

        private void register(String id) {
            store.workerRegister(new WorkerParams(id, "host-1", 4242, Map.of(QUEUE, 4), Set.of(TYPE), List.of(), "1.0",
                    PRESENCE, clock.instant()));
        }

        private WorkerBeat beat(String id) {
            return store.workerBeat(new WorkerBeatParams(id, 1, clock.instant()));
        }

        @Test
        void beat_findsARegisteredWorker_andNotAnUnknownOrDeletedOne() {
            register(WORKER);

            assertThat(beat(WORKER)).isEqualTo(new WorkerBeat(true, false));
            assertThat(beat("never-registered").registered()).isFalse();

            store.workerDelete(WORKER);

            assertThat(beat(WORKER).registered()).isFalse();
        }

        @Test
        void rescue_takesTheJobsOfADeadWorker_beforeTheirLeasesExpire() {
            register(WORKER);
            register("worker-b");
            UUID id = insert();
            claimOnly(id); // by WORKER, leased for 30 s
            clock.advance(PRESENCE.multipliedBy(JobStore.WORKER_STALE_INTERVALS).plusMillis(1));
            assertThat(beat("worker-b")).as("worker-b renews; WORKER has not for 3 intervals and holds a job")
                    .isEqualTo(new WorkerBeat(true, true));

            List<RescuedJob> rescued = rescue(10);

            assertThat(rescued).containsExactly(new RescuedJob(id, TYPE, QUEUE, JobStatus.PENDING, WORKER, 1));
            assertThat(get(id).errorMessage()).contains(WORKER).contains("registry").contains("attempt 1");
            assertThat(get(id).retryCount()).isEqualTo(1);
            assertThat(beat("worker-b").orphans()).isFalse();
        }

        @Test
        void rescue_leavesTheJobsOfALiveWorker_andOfAnUnregisteredOne_toTheirLeases() {
            register(WORKER);
            UUID id = insert();
            claimOnly(id);
            clock.advance(PRESENCE.multipliedBy(JobStore.WORKER_STALE_INTERVALS).minusMillis(1));
            assertThat(rescue(10)).as("its entry is not stale yet").isEmpty();

            store.workerDelete(WORKER);
            clock.advance(PRESENCE.multipliedBy(10));
            assertThat(rescue(10)).as("no entry: only its lease counts").isEmpty();
            assertThat(get(id).status()).isEqualTo(JobStatus.PROCESSING);
        }

        @Test
        void prune_deletesOnlyEntriesNotRenewedFor10Intervals() {
            register(WORKER);
            register("worker-b");
            clock.advance(PRESENCE.multipliedBy(JobStore.WORKER_PRUNE_INTERVALS).minusSeconds(1));
            beat("worker-b");
            assertThat(store.workerPrune(clock.instant())).isZero();

            clock.advance(Duration.ofSeconds(2));

            assertThat(store.workerPrune(clock.instant())).isEqualTo(1);
            assertThat(beat(WORKER).registered()).isFalse();
            assertThat(beat("worker-b").registered()).isTrue();
        }

        @Test
        void unserved_listsPendingJobsOfQueuesAndTypesNoLiveWorkerServes() {
            register(WORKER); // serves TYPE in QUEUE
            insert(TYPE, QUEUE, 0, null, 3);
            insert(TYPE, "mail", 0, null, 3);
            insert(TYPE, "mail", 0, null, 3);
            insert("send-email", QUEUE, 0, null, 3);
            clock.advance(Duration.ofSeconds(1));

            List<UnservedJobs> unserved = store.jobUnservedList(new UnservedParams(Duration.ofMillis(500), 10, null, clock.instant()));

            assertThat(unserved).extracting(UnservedJobs::queue, UnservedJobs::type, UnservedJobs::count)
                    .containsExactly(tuple("mail", TYPE, 2L), tuple(QUEUE, "send-email", 1L));
            assertThat(store.jobUnservedList(new UnservedParams(Duration.ofSeconds(5), 10, null, clock.instant())))
                    .as("not due for that long yet").isEmpty();

            clock.advance(Duration.ofMillis(100));
            register("worker-b"); // started after WORKER
            assertThat(store.jobUnservedList(new UnservedParams(Duration.ofMillis(500), 10, "worker-b", clock.instant())))
                    .as("only the oldest live worker is answered").isEmpty();
            assertThat(store.jobUnservedList(new UnservedParams(Duration.ofMillis(500), 10, WORKER, clock.instant())))
                    .hasSize(2);
        }
    }
}
