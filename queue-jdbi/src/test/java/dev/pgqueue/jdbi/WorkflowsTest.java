package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.Batch;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueOptions.DependencyFailure;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.PruneParams;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Workflows: jobs that wait for others. Each test names its jobs after job types of their own
 * ("a", "b", ...), so that a claim of one type takes exactly that job.
 */
@PostgresTest
class WorkflowsTest {

    record Note(String text) {}

    private static final Duration LEASE = Duration.ofMinutes(5);

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final JobRows rows;

    WorkflowsTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void emptyTables() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_dependency");
        // Every release of a waiting job, logged by a trigger of the test's own: "exactly once" is counted here.
        db.execute("CREATE TABLE IF NOT EXISTS released (job_id uuid NOT NULL, status text NOT NULL)");
        db.execute("DELETE FROM released");
        db.execute("""
                CREATE OR REPLACE FUNCTION log_release() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO released (job_id, status) VALUES (NEW.id, NEW.status); RETURN NULL; END $$""");
        db.execute("DROP TRIGGER IF EXISTS log_release ON job_queue");
        db.execute("""
                CREATE TRIGGER log_release AFTER UPDATE OF status ON job_queue FOR EACH ROW
                WHEN (OLD.status = 'waiting' AND NEW.status <> 'waiting') EXECUTE FUNCTION log_release()""");
    }

    private static JobType<Note> type(String name) {
        return JobType.of(name, Note.class);
    }

    private UUID enqueue(String name, UUID... dependsOn) {
        EnqueueOptions options = dependsOn.length == 0 ? EnqueueOptions.defaults() : EnqueueOptions.defaults().dependsOn(dependsOn);
        return queue.enqueue(type(name), new Note(name), options);
    }

    private UUID enqueue(String name, EnqueueOptions options) {
        return queue.enqueue(type(name), new Note(name), options);
    }

    private ClaimedJob claim(String name) {
        return claim(store, name);
    }

    private static ClaimedJob claim(JdbiJobStore store, String name) {
        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams(
                EnqueueOptions.DEFAULT_QUEUE, Set.of(name), 1, "test-worker", UUID.randomUUID(), LEASE, null));
        assertThat(claimed).as("claimable job of type " + name).hasSize(1);
        return claimed.get(0);
    }

    private static void finish(JdbiJobStore store, ClaimedJob job, FinishKind kind) {
        assertThat(store.jobFinishMany(new FinishParams(
                List.of(new Finish(job.id(), job.leaseToken(), kind, "it broke", Duration.ZERO)), null))).hasSize(1);
    }

    private void complete(String name) {
        finish(store, claim(name), FinishKind.COMPLETE);
    }

    private String status(UUID id) {
        return (String) rows.row(id).get("status");
    }

    private Object waitingFor(UUID id) {
        return rows.row(id).get("waiting_for");
    }

    private long releases(UUID id) {
        return db.queryForLong("SELECT count(*) FROM released WHERE job_id = ?", id);
    }

    @Nested
    class Enqueue {

        @Test
        void enqueue_withUnfinishedDependencies_isWaitingForEachOfThem() {
            UUID a = enqueue("a");
            UUID b = enqueue("b");
            UUID c = enqueue("c", a, b);

            assertThat(status(c)).isEqualTo("waiting");
            assertThat(waitingFor(c)).isEqualTo(2);
            assertThat(rows.row(a)).containsEntry("has_dependents", true);
            assertThat(rows.row(c).get("has_dependents")).isNull();
            assertThat(queue.find(c).orElseThrow().status()).isEqualTo(JobStatus.WAITING);
            assertThat(queue.dependencies(c)).extracting(JobSnapshot::id).containsExactly(a, b);
            assertThat(store.jobClaim(new ClaimParams(EnqueueOptions.DEFAULT_QUEUE, Set.of("c"), 10, "w",
                    UUID.randomUUID(), LEASE, null))).as("a waiting job is never claimed").isEmpty();
        }

        @Test
        void enqueue_onCompletedDependencies_isPendingAtOnce() {
            UUID a = enqueue("a");
            complete("a");

            UUID b = enqueue("b", a);

            assertThat(status(b)).isEqualTo("pending");
            assertThat(waitingFor(b)).isEqualTo(0);
            assertThat(queue.dependencies(b)).extracting(JobSnapshot::id).containsExactly(a);
            assertThat(rows.row(a).get("has_dependents")).as("a finished job needs no flag").isNull();
        }

        @Test
        void enqueue_onAFailedDependency_isCancelledAtOnce_orPendingWhenItRunsAnyway() {
            UUID a = enqueue("a");
            finish(store, claim("a"), FinishKind.FAIL);

            UUID cancels = enqueue("b", a);
            UUID runs = enqueue("c", EnqueueOptions.defaults().dependsOn(a).onDependencyFailure(DependencyFailure.RUN));

            assertThat(rows.row(cancels)).containsEntry("status", "cancelled")
                    .containsEntry("error_message", "cancelled: its dependency a/" + a + " failed");
            assertThat(JobRows.instant(rows.row(cancels), "completed_at")).isNotNull();
            assertThat(status(runs)).isEqualTo("pending");
        }

        @Test
        void enqueue_inACallersTransaction_mayDependOnAJobEnqueuedEarlierInIt() {
            UUID[] ids = jdbi.inTransaction(handle -> {
                UUID a = queue.in(handle).enqueue(type("a"), new Note("a"));
                UUID b = queue.in(handle).enqueue(type("b"), new Note("b"), EnqueueOptions.defaults().dependsOn(a));
                return new UUID[] {a, b};
            });

            assertThat(status(ids[1])).isEqualTo("waiting");
            complete("a");
            assertThat(status(ids[1])).isEqualTo("pending");
        }

        @Test
        void enqueue_rolledBackWithTheCallersTransaction_leavesNoDependencyBehind() {
            UUID a = enqueue("a");

            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                queue.in(handle).enqueue(type("b"), new Note("b"), EnqueueOptions.defaults().dependsOn(a));
                throw new IllegalStateException("the caller's own work failed");
            })).isInstanceOf(IllegalStateException.class);

            assertThat(rows.count()).isEqualTo(1);
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_dependency")).isZero();
            assertThat(rows.row(a).get("has_dependents")).isNull();
        }

        @Test
        void enqueue_thatDeadlocksWithAWorkerRecordingOutcomes_isTriedAgain_andSucceeds() throws Exception {
            enqueueDeadlockingWithAWorker((a, b) -> enqueue("d",
                    EnqueueOptions.defaults().dependsOn(a, b).onDependencyFailure(DependencyFailure.RUN)));
        }

        @Test
        void enqueueAfterInSql_thatDeadlocksWithAWorkerRecordingOutcomes_isTriedAgain_andSucceeds() throws Exception {
            enqueueDeadlockingWithAWorker((a, b) -> (UUID) db.queryForList(
                    "SELECT job_queue_enqueue_after(ARRAY[?, ?]::uuid[], 'd', on_dependency_failure => 'run') AS id", a, b)
                    .get(0).get("id"));
        }

        private void enqueueDeadlockingWithAWorker(java.util.function.BiFunction<UUID, UUID, UUID> enqueueDependent)
                throws Exception {
            // A worker records a mixed batch kind by kind (b completed, then a failed) in one transaction,
            // while an enqueue locks a then b: each waits for the other. PostgreSQL aborts the enqueue's
            // lock (it waited longer); the enqueue rolls back what it locked, lets the worker finish,
            // and locks again.
            UUID a = enqueue("a");
            UUID b = enqueue("b");
            ClaimedJob ja = claim("a");
            ClaimedJob jb = claim("b");
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try (Handle worker = jdbi.open()) {
                worker.begin();
                finish(store.bound(worker), jb, FinishKind.COMPLETE);
                Future<UUID> dependent = threads.submit(() -> enqueueDependent.apply(a, b));
                LockWaits.awaitBlockedBy(db, worker.getConnection()); // the enqueue holds a and waits for b
                Future<?> failA = threads.submit(() -> finish(store.bound(worker), ja, FinishKind.FAIL));
                failA.get(30, TimeUnit.SECONDS);
                worker.commit();
                UUID d = dependent.get(30, TimeUnit.SECONDS);

                assertThat(status(d)).isEqualTo("pending");
                assertThat(waitingFor(d)).isEqualTo(0);
            } finally {
                threads.shutdownNow();
            }
            assertThat(status(a)).isEqualTo("failed");
        }

        @Test
        void enqueue_withADedupeKey_holdsTheKeyWhileWaiting_andAfterwards() {
            UUID a = enqueue("a");
            EnqueueOptions unique = EnqueueOptions.defaults().dependsOn(a).dedupeKey("report:7");

            EnqueueResult first = queue.enqueueUnique(type("b"), new Note("first"), unique);
            EnqueueResult again = queue.enqueueUnique(type("b"), new Note("again"), EnqueueOptions.defaults().dedupeKey("report:7"));

            assertThat(first.duplicate()).isFalse();
            assertThat(again).isEqualTo(EnqueueResult.duplicateOf(first.jobId()));
            assertThat(status(first.jobId())).isEqualTo("waiting");
            assertThat(rows.row(first.jobId()).get("unique_states").toString()).contains("waiting");
            complete("a");
            assertThat(status(first.jobId())).isEqualTo("pending");
            assertThat(queue.enqueueUnique(type("b"), new Note("still"), EnqueueOptions.defaults().dedupeKey("report:7")))
                    .isEqualTo(EnqueueResult.duplicateOf(first.jobId()));
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_dependency WHERE job_id = ?", first.jobId())).isEqualTo(1);
        }

        @Test
        void enqueue_ofADuplicate_writesNoDependency() {
            UUID a = enqueue("a");
            UUID held = queue.enqueue(type("b"), new Note("b"), EnqueueOptions.defaults().dedupeKey("k"));

            EnqueueResult duplicate = queue.enqueueUnique(type("b"), new Note("b"),
                    EnqueueOptions.defaults().dedupeKey("k").dependsOn(a));

            assertThat(duplicate).isEqualTo(EnqueueResult.duplicateOf(held));
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_dependency")).isZero();
        }
    }

    @Nested
    class Completion {

        @Test
        void diamond_runsEachStepAfterItsDependencies_onWorkers() {
            // a -> (b, c) -> d
            UUID a = enqueue("a");
            UUID b = enqueue("b", a);
            UUID c = enqueue("c", a);
            UUID d = enqueue("d", b, c);
            List<String> order = new CopyOnWriteArrayList<>();
            Map<String, Instant> started = new ConcurrentHashMap<>();
            Worker.Builder builder = Worker.builder(store).pollInterval(Duration.ofMillis(50)).queue("default", 4);
            for (String name : List.of("a", "b", "c", "d")) {
                builder.handler(type(name), (job, context) -> {
                    started.put(name, Instant.now());
                    order.add(name);
                    Thread.sleep(20);
                    return JobOutcome.done();
                });
            }
            try (Worker worker = builder.build()) {
                worker.start();
                await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(status(d)));
            }

            assertThat(order).hasSize(4).startsWith("a").endsWith("d");
            for (UUID id : List.of(a, b, c, d)) {
                assertThat(rows.row(id)).containsEntry("status", "completed").containsEntry("attempt", 1);
            }
            Instant dStarted = JobRows.instant(rows.row(d), "processed_at");
            assertThat(dStarted).isAfterOrEqualTo(JobRows.instant(rows.row(b), "completed_at"))
                    .isAfterOrEqualTo(JobRows.instant(rows.row(c), "completed_at"));
            assertThat(releases(b) + releases(c) + releases(d)).isEqualTo(3);
        }

        @Test
        void completion_ofEachDependency_countsDown_andTheLastMakesTheDependentPending() {
            UUID a = enqueue("a");
            UUID b = enqueue("b");
            UUID c = enqueue("c");
            UUID d = enqueue("d", a, b, c);

            complete("b");
            assertThat(waitingFor(d)).isEqualTo(2);
            complete("a");
            assertThat(waitingFor(d)).isEqualTo(1);
            assertThat(status(d)).isEqualTo("waiting");
            complete("c");

            assertThat(status(d)).isEqualTo("pending");
            assertThat(waitingFor(d)).isEqualTo(0);
            assertThat(releases(d)).isEqualTo(1);
        }

        @Test
        void completion_byAnyPath_releasesDependents_evenAPlainSqlUpdate() {
            UUID a = enqueue("a");
            UUID b = enqueue("b", a);

            db.execute("UPDATE job_queue SET status = 'completed', completed_at = now() WHERE id = ?", a);

            assertThat(status(b)).isEqualTo("pending");
        }

        @Test
        void lastTwoDependencies_completingAtOnceOnTwoWorkers_releaseTheDependentExactlyOnce() throws Exception {
            int rounds = 200;
            JdbiJobStore one = JdbiJobStore.builder(Jdbi.create(db.newDataSource("race-one", 2))).schema(db.schema())
                    .migrate(false).build();
            JdbiJobStore two = JdbiJobStore.builder(Jdbi.create(db.newDataSource("race-two", 2))).schema(db.schema())
                    .migrate(false).build();
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < rounds; round++) {
                    UUID a = enqueue("a");
                    UUID b = enqueue("b");
                    UUID d = enqueue("d", a, b);
                    ClaimedJob ja = claim(one, "a");
                    ClaimedJob jb = claim(two, "b");
                    CyclicBarrier together = new CyclicBarrier(2);
                    Future<?> fa = threads.submit(() -> {
                        together.await(10, TimeUnit.SECONDS);
                        finish(one, ja, FinishKind.COMPLETE);
                        return null;
                    });
                    Future<?> fb = threads.submit(() -> {
                        together.await(10, TimeUnit.SECONDS);
                        finish(two, jb, FinishKind.COMPLETE);
                        return null;
                    });
                    fa.get(30, TimeUnit.SECONDS);
                    fb.get(30, TimeUnit.SECONDS);

                    assertThat(status(d)).as("round %d", round).isEqualTo("pending");
                    assertThat(waitingFor(d)).as("round %d", round).isEqualTo(0);
                    assertThat(releases(d)).as("round %d: transitions out of waiting", round).isEqualTo(1);
                    complete("d");
                }
            } finally {
                threads.shutdownNow();
            }
            assertThat(db.queryForLong("SELECT count(*) FROM released")).isEqualTo(rounds);
        }

        @Test
        void lastTwoDependencies_completingInOverlappingTransactions_releaseOnce_whicheverCommitsLast() throws Exception {
            // Forced interleaving: the second completion runs while the first one's transaction is open.
            UUID a = enqueue("a");
            UUID b = enqueue("b");
            UUID d = enqueue("d", a, b);
            ClaimedJob ja = claim("a");
            ClaimedJob jb = claim("b");
            ExecutorService thread = Executors.newSingleThreadExecutor();
            try (Handle first = jdbi.open(); Handle second = jdbi.open()) {
                first.begin();
                finish(store.bound(first), ja, FinishKind.COMPLETE);     // d: 2 -> 1, holding d's row lock
                second.begin();
                Future<?> late = thread.submit(() -> finish(store.bound(second), jb, FinishKind.COMPLETE));
                LockWaits.awaitBlockedBy(db, first.getConnection());
                assertThat(late).as("the second completion waits for the first's lock on d").isNotDone();
                first.commit();
                late.get(10, TimeUnit.SECONDS);                             // re-reads d as committed: 1 -> 0
                second.commit();
            } finally {
                thread.shutdownNow();
            }

            assertThat(status(d)).isEqualTo("pending");
            assertThat(releases(d)).isEqualTo(1);
        }

        @Test
        void dependentsEnqueuedWhileTheirDependenciesRunAndFinish_neverWaitForNothing() throws Exception {
            // Producers keep enqueueing jobs that depend on recent jobs, some running, some finishing at
            // that moment, while a worker runs everything. No dependent may be left waiting for
            // dependencies that have all finished (the enqueue's lock makes a finishing dependency wait).
            List<UUID> recent = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 20; i++) {
                recent.add(enqueue("s"));
            }
            AtomicInteger failures = new AtomicInteger();
            List<String> errors = new CopyOnWriteArrayList<>();
            ExecutorService producers = Executors.newFixedThreadPool(3);
            try (Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(50)).queue("default", 6)
                    .handler(type("s"), (job, context) -> {
                        Thread.sleep(job.id().hashCode() % 2 == 0 ? 0 : 2);
                        return job.id().hashCode() % 11 == 0 ? JobOutcome.failPermanently("unlucky") : JobOutcome.done();
                    })
                    .build()) {
                worker.start();
                List<Future<?>> running = new ArrayList<>();
                for (int p = 0; p < 3; p++) {
                    running.add(producers.submit(() -> {
                        java.util.Random random = new java.util.Random();
                        for (int i = 0; i < 150; i++) {
                            int n = recent.size();
                            UUID a = recent.get(n - 1 - random.nextInt(Math.min(n, 15)));
                            UUID b = recent.get(n - 1 - random.nextInt(Math.min(n, 15)));
                            EnqueueOptions options = EnqueueOptions.defaults().dependsOn(a.equals(b) ? List.of(a) : List.of(a, b));
                            if (random.nextBoolean()) {
                                options = options.onDependencyFailure(DependencyFailure.RUN);
                            }
                            try {
                                recent.add(queue.enqueue(type("s"), new Note("s"), options));
                            } catch (RuntimeException e) {
                                failures.incrementAndGet();
                                errors.add(e.toString());
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get(60, TimeUnit.SECONDS);
                }
                // A release commits with the completion that causes it, so once nothing is pending or
                // processing, whatever still waits waits for nothing.
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        db.queryForLong("SELECT count(*) FROM job_queue WHERE status IN ('pending', 'processing')") == 0);
            } finally {
                producers.shutdownNow();
            }

            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'waiting'"))
                    .as("jobs left waiting although every dependency finished").isZero();
            assertThat(errors).as("enqueues that failed").isEmpty();
            assertThat(rows.count()).isEqualTo(20 + 450);
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'cancelled' "
                    + "AND on_dependency_failure = 'run'")).as("a job that runs anyway is never cancelled").isZero();
            assertThat(db.queryForLong("SELECT count(*) FROM (SELECT job_id FROM released GROUP BY job_id HAVING count(*) > 1) x"))
                    .as("no job released twice").isZero();
            assertThat(db.queryForLong("""
                    SELECT count(*) FROM job_queue d
                     WHERE d.status = 'completed' AND d.waiting_for IS NOT NULL
                       AND EXISTS (SELECT 1 FROM job_queue_dependency e JOIN job_queue x ON x.id = e.depends_on
                                    WHERE e.job_id = d.id
                                      AND (x.completed_at > d.processed_at
                                           OR (x.status <> 'completed' AND d.on_dependency_failure = 'cancel')))"""))
                    .as("jobs that ran before a dependency finished, or despite a failed one they cancel on").isZero();
            assertThat(db.queryForLong("""
                    SELECT count(*) FROM job_queue d
                     WHERE d.status = 'cancelled'
                       AND NOT EXISTS (SELECT 1 FROM job_queue_dependency e JOIN job_queue x ON x.id = e.depends_on
                                        WHERE e.job_id = d.id AND x.status IN ('failed', 'cancelled'))"""))
                    .as("jobs cancelled without a failed dependency").isZero();
        }

        @Test
        void completion_rolledBack_takesItsCountDownWithIt() throws Exception {
            UUID a = enqueue("a");
            UUID b = enqueue("b");
            UUID d = enqueue("d", a, b);
            ClaimedJob ja = claim("a");

            try (Handle handle = jdbi.open()) {
                handle.begin();
                finish(store.bound(handle), ja, FinishKind.COMPLETE);
                handle.rollback();
            }
            complete("b");

            assertThat(status(d)).isEqualTo("waiting");
            assertThat(waitingFor(d)).isEqualTo(1);
            finish(store, ja, FinishKind.COMPLETE);
            assertThat(status(d)).isEqualTo("pending");
        }
    }

    @Nested
    class Failure {

        @Test
        void aDependencyFailingForGood_cancelsItsDependents_andTheirsInTurn() {
            UUID a = enqueue("a");
            UUID b = enqueue("b", a);
            UUID c = enqueue("c", b);
            UUID other = enqueue("x");
            UUID d = enqueue("d", c, other);

            finish(store, claim("a"), FinishKind.FAIL);

            String reason = "cancelled: its dependency a/" + a + " failed";
            for (UUID id : List.of(b, c, d)) {
                assertThat(rows.row(id)).containsEntry("status", "cancelled").containsEntry("error_message", reason);
            }
            assertThat(status(other)).isEqualTo("pending");
        }

        @Test
        void aDependencyFailingForGood_letsAJobThatRunsAnywayRun_onceAllHaveFinished_andSeeTheFailure() {
            UUID a = enqueue("a");
            UUID b = enqueue("b");
            UUID c = enqueue("c", EnqueueOptions.defaults().dependsOn(a, b).onDependencyFailure(DependencyFailure.RUN));

            finish(store, claim("a"), FinishKind.FAIL);
            assertThat(status(c)).as("b has not finished yet").isEqualTo("waiting");
            complete("b");

            assertThat(status(c)).isEqualTo("pending");
            assertThat(queue.dependencies(c)).extracting(JobSnapshot::id, JobSnapshot::status, JobSnapshot::errorMessage)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(a, JobStatus.FAILED, "it broke"),
                            org.assertj.core.groups.Tuple.tuple(b, JobStatus.COMPLETED, null));
        }

        @Test
        void aRunAnywayJobInTheMiddle_stopsThePropagation_andItsOwnDependentsWaitForIt() {
            UUID a = enqueue("a");
            UUID b = enqueue("b", EnqueueOptions.defaults().dependsOn(a).onDependencyFailure(DependencyFailure.RUN));
            UUID c = enqueue("c", b);

            finish(store, claim("a"), FinishKind.FAIL);

            assertThat(status(b)).isEqualTo("pending");
            assertThat(status(c)).isEqualTo("waiting");
            complete("b");
            assertThat(status(c)).isEqualTo("pending");
        }

        @Test
        void aDependencyThatFailsAnAttemptAndIsRetried_hasNotFailedForGood() {
            UUID a = queue.enqueue(type("a"), new Note("a"), EnqueueOptions.defaults().maxRetries(2));
            UUID b = enqueue("b", a);

            ClaimedJob first = claim("a");
            assertThat(store.jobFinishMany(new FinishParams(List.of(
                    new Finish(first.id(), first.leaseToken(), FinishKind.RETRY, "flaky", Duration.ZERO)), null)))
                    .extracting(f -> f.status()).containsExactly(JobStatus.PENDING);
            assertThat(status(b)).isEqualTo("waiting");

            // A crash: the lease runs out and the rescuer takes the job back; still not failed for good.
            ClaimedJob second = claim("a");
            db.execute("UPDATE job_queue SET lease_expires_at = now() - interval '1 second' WHERE id = ?", a);
            assertThat(store.jobRescue(new RescueParams(10, null))).extracting(r -> r.status()).containsExactly(JobStatus.PENDING);
            assertThat(status(b)).isEqualTo("waiting");
            assertThat(second.id()).isEqualTo(a);

            complete("a");
            assertThat(status(b)).isEqualTo("pending");
        }

        @Test
        void aDependencyThatUsesUpItsRetries_orIsRescuedWithNoneLeft_hasFailedForGood() {
            UUID a = queue.enqueue(type("a"), new Note("a"), EnqueueOptions.defaults().maxRetries(0));
            UUID b = enqueue("b", a);
            UUID c = queue.enqueue(type("c"), new Note("c"), EnqueueOptions.defaults().maxRetries(0));
            UUID d = enqueue("d", c);

            ClaimedJob ja = claim("a");
            finish(store, ja, FinishKind.RETRY);
            claim("c");
            db.execute("UPDATE job_queue SET lease_expires_at = now() - interval '1 second' WHERE id = ?", c);
            store.jobRescue(new RescueParams(10, null));

            assertThat(status(a)).isEqualTo("failed");
            assertThat(status(b)).isEqualTo("cancelled");
            assertThat(status(c)).isEqualTo("failed");
            assertThat(status(d)).isEqualTo("cancelled");
        }

        @Test
        void cancellingADependency_cancelsItsDependents() {
            UUID a = enqueue("a");
            UUID b = enqueue("b", a);

            assertThat(queue.cancel(a)).isTrue();

            assertThat(rows.row(b)).containsEntry("status", "cancelled")
                    .containsEntry("error_message", "cancelled: its dependency a/" + a + " was cancelled");
        }

        @Test
        void cancellingAWaitingJob_cancelsIt_andItsDependentsFollowTheirPolicy() {
            UUID a = enqueue("a");
            UUID b = enqueue("b", a);
            UUID cancels = enqueue("c", b);
            UUID runs = enqueue("d", EnqueueOptions.defaults().dependsOn(b).onDependencyFailure(DependencyFailure.RUN));

            assertThat(store.jobCancel(new CancelParams(b, null))).isEqualTo(CancelResult.CANCELLED);

            assertThat(rows.row(b)).containsEntry("status", "cancelled").containsEntry("error_message", "cancelled by a producer");
            assertThat(status(cancels)).isEqualTo("cancelled");
            assertThat(status(runs)).isEqualTo("pending");
            complete("a");
            assertThat(status(b)).as("a cancelled job stays cancelled").isEqualTo("cancelled");
        }

        @Test
        void deletingAnUnfinishedDependencyByHand_countsAsCancelled_soThatNoDependentWaitsForever() {
            UUID a = enqueue("a");
            UUID b = enqueue("b", a);

            db.execute("DELETE FROM job_queue WHERE id = ?", a);

            assertThat(rows.row(b)).containsEntry("status", "cancelled")
                    .containsEntry("error_message", "cancelled: its dependency a/" + a + " was deleted before it finished");
        }

        @Test
        void aLongChain_isCancelledInOneGo() {
            UUID first = enqueue("a");
            UUID previous = first;
            List<UUID> chain = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                previous = enqueue("b", previous);
                chain.add(previous);
            }

            finish(store, claim("a"), FinishKind.FAIL);

            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'cancelled'")).isEqualTo(500);
            assertThat(status(chain.get(499))).isEqualTo("cancelled");
        }
    }

    @Nested
    class Batches {

        record Render(int page) {}

        record Assemble(String book) {}

        static final JobType<Render> RENDER = JobType.of("render-page", Render.class);
        static final JobType<Assemble> ASSEMBLE = JobType.of("assemble-book", Assemble.class);

        @Test
        void enqueueBatch_writesTheJobsPending_andTheCallbackWaitingForAllOfThem() {
            Batch batch = queue.enqueueBatch(RENDER, List.of(new Render(1), new Render(2), new Render(3)),
                    EnqueueOptions.defaults(), ASSEMBLE, new Assemble("b"), EnqueueOptions.defaults().priority(-1));

            assertThat(batch.jobIds()).hasSize(3);
            batch.jobIds().forEach(id -> assertThat(rows.row(id)).containsEntry("status", "pending")
                    .containsEntry("has_dependents", true));
            assertThat(rows.row(batch.callbackId())).containsEntry("status", "waiting").containsEntry("waiting_for", 3)
                    .containsEntry("priority", -1);
            assertThat(queue.dependencies(batch.callbackId())).extracting(JobSnapshot::id).containsExactlyElementsOf(batch.jobIds());
        }

        @Test
        void aBatch_runsItsCallbackOnce_afterEveryJob_andTheCallbackReadsTheirResults() {
            AtomicInteger callbacks = new AtomicInteger();
            List<Integer> seen = new CopyOnWriteArrayList<>();
            Batch batch = queue.enqueueBatch(RENDER, IntStream.rangeClosed(1, 60).mapToObj(Render::new).toList(),
                    EnqueueOptions.defaults(), ASSEMBLE, new Assemble("b"), EnqueueOptions.defaults());
            List<Worker> workers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                workers.add(Worker.builder(store).pollInterval(Duration.ofMillis(50)).queue("default", 8)
                        .handler(RENDER, (job, context) -> JobOutcome.done(job.payload().page() * 10))
                        .handler(ASSEMBLE, (job, context) -> {
                            callbacks.incrementAndGet();
                            for (JobSnapshot page : queue.dependencies(job.id())) {
                                seen.add(Integer.parseInt(page.resultJson()));
                            }
                            return JobOutcome.done();
                        })
                        .build());
            }
            workers.forEach(Worker::start);
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(status(batch.callbackId())));
            } finally {
                workers.forEach(Worker::close);
            }

            assertThat(callbacks).hasValue(1);
            assertThat(seen).containsExactlyElementsOf(IntStream.rangeClosed(1, 60).map(p -> p * 10).boxed().toList());
            Instant callbackStarted = JobRows.instant(rows.row(batch.callbackId()), "processed_at");
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'render-page' "
                    + "AND status = 'completed' AND completed_at <= ?", java.sql.Timestamp.from(callbackStarted))).isEqualTo(60);
        }

        @Test
        void aBatchWhoseJobFailsForGood_cancelsTheCallback_orRunsItWhenItRunsAnyway() {
            Batch cancels = queue.enqueueBatch(type("a"), List.of(new Note("1"), new Note("2")), EnqueueOptions.defaults(),
                    type("cb1"), new Note("callback"), EnqueueOptions.defaults());
            finish(store, claim("a"), FinishKind.FAIL);
            assertThat(status(cancels.callbackId())).isEqualTo("cancelled");

            Batch runs = queue.enqueueBatch(type("b"), List.of(new Note("1"), new Note("2")), EnqueueOptions.defaults(),
                    type("cb2"), new Note("callback"), EnqueueOptions.defaults().onDependencyFailure(DependencyFailure.RUN));
            finish(store, claim("b"), FinishKind.FAIL);
            assertThat(status(runs.callbackId())).isEqualTo("waiting");
            complete("b");
            assertThat(status(runs.callbackId())).isEqualTo("pending");
            assertThat(queue.dependencies(runs.callbackId())).extracting(JobSnapshot::status)
                    .containsExactlyInAnyOrder(JobStatus.FAILED, JobStatus.COMPLETED);
        }

        @Test
        void anEmptyBatch_hasItsCallbackDueAtOnce() {
            Batch batch = queue.enqueueBatch(RENDER, List.of(), EnqueueOptions.defaults(),
                    ASSEMBLE, new Assemble("empty"), EnqueueOptions.defaults());

            assertThat(batch.jobIds()).isEmpty();
            assertThat(status(batch.callbackId())).isEqualTo("pending");
        }

        @Test
        void aBatchInTheCallersTransaction_commitsOrRollsBackWithIt() {
            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                queue.in(handle).enqueueBatch(RENDER, List.of(new Render(1)), EnqueueOptions.defaults(),
                        ASSEMBLE, new Assemble("b"), EnqueueOptions.defaults());
                throw new IllegalStateException("rolled back");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(rows.count()).isZero();
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_dependency")).isZero();

            Batch batch = jdbi.inTransaction(handle -> queue.in(handle).enqueueBatch(RENDER, List.of(new Render(1)),
                    EnqueueOptions.defaults(), ASSEMBLE, new Assemble("b"), EnqueueOptions.defaults()));
            assertThat(status(batch.callbackId())).isEqualTo("waiting");
        }

        @Test
        void aCallbackMayWaitForMoreThanItsBatch() {
            UUID setup = enqueue("setup");
            Batch batch = queue.enqueueBatch(RENDER, List.of(new Render(1)), EnqueueOptions.defaults(),
                    ASSEMBLE, new Assemble("b"), EnqueueOptions.defaults().dependsOn(setup));

            assertThat(waitingFor(batch.callbackId())).isEqualTo(2);
        }
    }

    @Nested
    class Store {

        @Test
        void jobInsertMany_ofJobsThatDependOnEachOtherInACycle_isRejected_andWritesNothing() {
            UUID a = UuidV7.next();
            UUID b = UuidV7.next();
            UUID c = UuidV7.next();
            List<NewJob> jobs = List.of(job(a, "a", b), job(b, "b", c), job(c, "c", a));

            assertThatThrownBy(() -> store.jobInsertMany(new InsertParams(jobs, null)))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected dependsOn to be free of cycles, got: ")
                    .hasMessageContaining("depends on");
            assertThat(rows.count()).isZero();
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_dependency")).isZero();
        }

        @Test
        void jobInsertMany_ofAJobThatDependsOnItself_isRejected() {
            UUID a = UuidV7.next();

            assertThatThrownBy(() -> store.jobInsertMany(new InsertParams(List.of(job(a, "a", a)), null)))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected dependsOn to be free of cycles, got: a/" + a + " depends on itself");
            assertThat(rows.count()).isZero();
        }

        @Test
        void jobInsertMany_ofJobsDependingOnEachOtherInOrder_insertsThemAll() {
            UUID a = UuidV7.next();
            UUID b = UuidV7.next();
            UUID c = UuidV7.next();

            store.jobInsertMany(new InsertParams(List.of(job(c, "c", a, b), job(b, "b", a), job(a, "a")), null));

            assertThat(status(a)).isEqualTo("pending");
            assertThat(waitingFor(b)).isEqualTo(1);
            assertThat(waitingFor(c)).isEqualTo(2);
        }

        @Test
        void pruning_aJobWithDependencies_takesItsDependencyRowsAlong() {
            UUID a = enqueue("a");
            UUID b = enqueue("b", a);
            complete("a");
            complete("b");

            int pruned = store.jobPrune(new PruneParams(Set.of(JobStatus.COMPLETED), Duration.ZERO, 100,
                    Instant.now().plusSeconds(60)));

            assertThat(pruned).isEqualTo(2);
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_dependency")).isZero();
            assertThat(b).isNotNull();
        }

        private NewJob job(UUID id, String type, UUID... dependsOn) {
            return NewJob.builder(id, type, "{\"text\": \"x\"}").dependsOn(List.of(dependsOn)).build();
        }
    }
}
