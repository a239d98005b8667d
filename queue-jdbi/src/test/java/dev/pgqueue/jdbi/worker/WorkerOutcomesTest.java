package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadMapper;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** How each way a handler can end is recorded, on a real worker against PostgreSQL. */
@PostgresTest
class WorkerOutcomesTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class).withRetryPolicy(RetryPolicy.noBackoff());


    WorkerOutcomesTest(TestDatabase db) {
        super(db);
    }

    @BeforeEach
    void emptyLedger() {
        db.execute("CREATE TABLE IF NOT EXISTS ledger (job_id uuid PRIMARY KEY, note text)");
        db.execute("DELETE FROM ledger");
    }

    private void start(JobType<Task> type, JobHandler<Task> handler) {
        start(type, handler, builder -> {});
    }

    private void start(JobType<Task> type, JobHandler<Task> handler, Consumer<Worker.Builder> options) {
        Worker.Builder builder = Worker.builder(store).pollInterval(Duration.ofMillis(200)).handler(type, handler);
        options.accept(builder);
        worker = builder.build();
        worker.start();
    }

    private UUID enqueue(int maxRetries) {
        return queue.enqueue(TASK, new Task(1), EnqueueOptions.defaults().maxRetries(maxRetries));
    }

    private Map<String, Object> row(UUID id) {
        return db.queryForList("SELECT * FROM job_queue WHERE id = ?", id).get(0);
    }

    private void awaitStatus(UUID id, String status) {
        await().atMost(Duration.ofSeconds(15)).until(() -> status.equals(row(id).get("status")));
    }

    @Nested
    class Returns {

        @Test
        void done_completesTheJob() {
            start(TASK, (job, context) -> JobOutcome.done());
            UUID id = enqueue(3);
            awaitStatus(id, "completed");
            assertThat(row(id)).containsEntry("attempt", 1).containsEntry("retry_count", 0);
            assertThat(row(id).get("completed_at")).isNotNull();
        }

        @Test
        void snooze_runsTheJobAgainLater_withoutCountingAFailure() {
            AtomicInteger runs = new AtomicInteger();
            start(TASK, (job, context) -> runs.incrementAndGet() == 1 ? JobOutcome.snooze(Duration.ofMillis(300)) : JobOutcome.done());
            UUID id = enqueue(0);
            awaitStatus(id, "completed");
            assertThat(row(id)).containsEntry("attempt", 2).containsEntry("retry_count", 0);
        }

        @Test
        void failPermanently_failsTheJobNow_whateverRetriesRemain() {
            start(TASK, (job, context) -> JobOutcome.failPermanently("the source image is gone"));
            UUID id = enqueue(3);
            awaitStatus(id, "failed");
            assertThat(row(id)).containsEntry("attempt", 1).containsEntry("retry_count", 1)
                    .containsEntry("error_message", "the source image is gone");
        }

        @Test
        void cancel_endsTheJobCancelled() {
            start(TASK, (job, context) -> JobOutcome.cancel("nothing to do"));
            UUID id = enqueue(3);
            awaitStatus(id, "cancelled");
            assertThat(row(id)).containsEntry("error_message", "nothing to do");
        }

        @Test
        void null_isAFailedAttemptWithAClearMessage() {
            start(TASK, (job, context) -> null);
            UUID id = enqueue(0);
            awaitStatus(id, "failed");
            assertThat((String) row(id).get("error_message")).contains("handler returned null");
        }
    }

    @Nested
    class Throws {

        @Test
        void exception_retriesThenCompletes() {
            AtomicInteger runs = new AtomicInteger();
            start(TASK, (job, context) -> {
                if (runs.incrementAndGet() < 3) {
                    throw new IllegalStateException("flaky " + runs.get());
                }
                return JobOutcome.done();
            });
            UUID id = enqueue(3);
            awaitStatus(id, "completed");
            assertThat(row(id)).containsEntry("attempt", 3).containsEntry("retry_count", 2);
            // A completed job shows no error (V6); its attempt history keeps both failures.
            assertThat(row(id).get("error_message")).isNull();
            assertThat(row(id).get("history").toString()).contains("flaky 1").contains("flaky 2");
        }

        @Test
        void exception_failsTheJobWithTheLastError_onceMaxRetriesAreUsed() {
            AtomicInteger runs = new AtomicInteger();
            start(TASK, (job, context) -> {
                throw new IllegalArgumentException("attempt " + runs.incrementAndGet());
            });
            UUID id = enqueue(2);
            awaitStatus(id, "failed");
            assertThat(row(id)).containsEntry("attempt", 3).containsEntry("retry_count", 3);
            assertThat((String) row(id).get("error_message")).startsWith("java.lang.IllegalArgumentException: attempt 3");
            assertThat(runs).hasValue(3);
        }

        @Test
        void error_endsAsTheJobsError_andTheWorkerKeepsServing() {
            start(TASK, (job, context) -> {
                if (job.payload().n() == 1) {
                    throw new StackOverflowError("deep recursion in handler");
                }
                return JobOutcome.done();
            });
            UUID bad = enqueue(0);
            UUID good = queue.enqueue(TASK, new Task(2));
            awaitStatus(bad, "failed");
            awaitStatus(good, "completed");
            assertThat((String) row(bad).get("error_message")).startsWith("java.lang.StackOverflowError: deep recursion in handler");
            assertThat(worker.isRunning()).isTrue();
        }

        @Test
        void errorMessages_areTruncatedToTheDocumentedLength() {
            start(TASK, (job, context) -> {
                throw new IllegalStateException("x".repeat(50_000));
            });
            UUID id = enqueue(0);
            awaitStatus(id, "failed");
            String message = (String) row(id).get("error_message");
            assertThat(message).hasSize(Worker.MAX_ERROR_MESSAGE_LENGTH).contains("truncated");
        }
    }

    @Nested
    class Transactional {

        @Test
        void handlerWritesAndCompletion_commitTogether() {
            start(TASK, store.transactional((job, context, handle) -> {
                handle.execute("INSERT INTO ledger (job_id, note) VALUES (?, 'done')", job.id());
                return JobOutcome.done();
            }));
            UUID id = enqueue(3);
            awaitStatus(id, "completed");
            assertThat(db.queryForLong("SELECT count(*) FROM ledger WHERE job_id = ?", id)).isEqualTo(1);
        }

        @Test
        void completeInTransaction_commitsOnlyTheFinalWritesWithTheCompletion() {
            List<Boolean> heldAConnectionWhileWorking = new CopyOnWriteArrayList<>();
            start(TASK, (job, context) -> {
                heldAConnectionWhileWorking.add(db.queryForLong(
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND application_name = 'pgqueue-test'") > 0);
                return store.completeInTransaction(context, handle -> {
                    handle.execute("INSERT INTO ledger (job_id, note) VALUES (?, 'rendered')", job.id());
                    return JobOutcome.done();
                });
            });
            UUID id = enqueue(3);
            awaitStatus(id, "completed");
            assertThat(db.queryForLong("SELECT count(*) FROM ledger WHERE job_id = ?", id)).isEqualTo(1);
            assertThat(heldAConnectionWhileWorking).containsExactly(false);
        }

        @Test
        void completeInTransaction_outsideAWorker_isRefused() {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.completeInTransaction(
                            new dev.pgqueue.JobContext() {
                                public UUID jobId() { return UUID.randomUUID(); }
                                public int attempt() { return 1; }
                                public boolean isCancellationRequested() { return false; }
                                public boolean isLeaseLost() { return false; }
                                public boolean shouldStop() { return false; }
                                public void extendLease() {}
                                public void reportProgress(int percent, String message) {}
                            },
                            handle -> JobOutcome.done()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("only inside a pgqueue Worker's handler");
        }

        @Test
        void handlerThatThrows_rollsBackItsWrites_andTheAttemptCountsAsFailed() {
            start(TASK, store.transactional((job, context, handle) -> {
                handle.execute("INSERT INTO ledger (job_id, note) VALUES (?, 'partial')", job.id());
                throw new IllegalStateException("payment provider said no");
            }));
            UUID id = enqueue(0);
            awaitStatus(id, "failed");
            assertThat(db.queryForLong("SELECT count(*) FROM ledger")).isZero();
            assertThat(row(id)).containsEntry("retry_count", 1);
            assertThat((String) row(id).get("error_message")).contains("payment provider said no");
        }

        @Test
        void handlerWhoseLeaseWasLost_keepsNeitherItsWritesNorItsOutcome() {
            start(TASK, store.transactional((job, context, handle) -> {
                handle.execute("INSERT INTO ledger (job_id, note) VALUES (?, 'zombie')", job.id());
                // Meanwhile the lease expired and another worker took the job over:
                db.execute("UPDATE job_queue SET lease_token = gen_random_uuid(), lease_owner = 'other' WHERE id = ?", job.id());
                return JobOutcome.done();
            }));
            UUID id = enqueue(3);
            await().atMost(Duration.ofSeconds(10)).until(() -> worker.runningJobs() == 0 && "other".equals(row(id).get("lease_owner")));
            Thread.yield();
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10))
                    .until(() -> "processing".equals(row(id).get("status")));
            assertThat(db.queryForLong("SELECT count(*) FROM ledger")).isZero();
        }
    }

    @Nested
    class Timeouts {

        @Test
        void handlerRunningPastItsTimeout_isInterrupted_andTheAttemptFails() {
            JobType<Task> slow = TASK.withTimeout(Duration.ofMillis(300));
            start(slow, (job, context) -> {
                Thread.sleep(30_000);
                return JobOutcome.done();
            });
            UUID id = enqueue(0);
            awaitStatus(id, "failed");
            assertThat((String) row(id).get("error_message")).startsWith("timed out after PT0.3S");
        }

        @Test
        void handlerIgnoringTheInterrupt_losesItsLease_andItsLateOutcomeIsFencedOut() {
            JobType<Task> slow = TASK.withTimeout(Duration.ofMillis(200));
            List<UUID> lost = new CopyOnWriteArrayList<>();
            CountDownLatch returned = new CountDownLatch(1);
            CountDownLatch mayReturn = new CountDownLatch(1);
            start(slow, (job, context) -> {
                // Until the rescue has failed the job (not for a fixed time, which a late rescue on a
                // loaded machine outlasted: the outcome then completed the job before its lease was judged).
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (mayReturn.getCount() > 0 && System.nanoTime() < until) {
                    Thread.onSpinWait(); // ignores interruption
                }
                returned.countDown();
                return JobOutcome.done();
            }, b -> b.leaseDuration(Duration.ofMillis(800))
                    .heartbeatInterval(Duration.ofMillis(200))
                    .rescueInterval(Duration.ofMillis(200))
                    .listener(new WorkerListener() {
                        @Override
                        public void leaseLost(Job<?> job) {
                            lost.add(job.id());
                        }
                    }));
            UUID id = enqueue(0);
            awaitStatus(id, "failed");
            mayReturn.countDown();
            assertThat((String) row(id).get("error_message")).startsWith("lease expired");
            await().atMost(Duration.ofSeconds(5)).until(() -> returned.getCount() == 0 && lost.contains(id));
            assertThat(row(id)).containsEntry("status", "failed");
        }
    }

    @Nested
    class Cancellation {

        @Test
        void cancellingARunningJob_interruptsItsHandler_andEndsItCancelled() {
            CountDownLatch started = new CountDownLatch(1);
            start(TASK, (job, context) -> {
                started.countDown();
                Thread.sleep(30_000);
                return JobOutcome.done();
            });
            UUID id = enqueue(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);

            long before = System.nanoTime();
            assertThat(queue.cancel(id)).isTrue();
            awaitStatus(id, "cancelled");
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(10)); // not the 30 s sleep
            assertThat(row(id)).containsEntry("retry_count", 0);
        }

        /**
         * Any role that can connect can NOTIFY on the channel; a forged "cancel:<id>" must only make
         * the worker look at the row, which says nobody asked to cancel.
         */
        @Test
        void forgedCancelNotification_fromARoleWithNoGrants_doesNotStopTheHandler() {
            CountDownLatch started = new CountDownLatch(1);
            AtomicInteger interrupted = new AtomicInteger();
            start(TASK, (job, context) -> {
                started.countDown();
                try {
                    Thread.sleep(1_500);
                } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                    throw e;
                }
                return JobOutcome.done();
            });
            UUID id = enqueue(0);
            await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);

            String role = "pgq_forger_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            String channel = (String) db.queryForList("SELECT job_queue_channel() AS c").get(0).get("c");
            db.execute("CREATE ROLE " + role + " NOLOGIN");
            try {
                jdbi.useHandle(h -> {
                    h.execute("SET ROLE " + role);
                    try {
                        for (int i = 0; i < 20; i++) {
                            h.execute("NOTIFY \"" + channel + "\", 'cancel:" + id + "'");
                        }
                    } finally {
                        h.execute("RESET ROLE");
                    }
                });
            } finally {
                db.execute("DROP ROLE " + role);
            }

            awaitStatus(id, "completed");
            assertThat(interrupted).hasValue(0);
            assertThat(row(id)).containsEntry("attempt", 1).containsEntry("retry_count", 0);
        }

        /** cancel() said yes: a handler that ignores the interrupt and returns done() afterwards does not complete the job. */
        @Test
        void cancelRequestWinsOverALaterDone_fromAHandlerThatIgnoresTheInterrupt() {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch cancelled = new CountDownLatch(1);
            List<String> cancelledEvents = new CopyOnWriteArrayList<>();
            start(TASK, (job, context) -> {
                started.countDown();
                awaitIgnoringInterrupts(cancelled);
                return JobOutcome.done(Map.of("shipped", true));
            }, b -> b.listener(new WorkerListener() {
                @Override
                public void jobCancelled(Job<?> job, String reason) {
                    cancelledEvents.add(reason);
                }
            }));
            UUID id = enqueue(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);

            assertThat(queue.cancel(id)).isTrue();
            cancelled.countDown();

            awaitStatus(id, "cancelled");
            assertThat(row(id)).containsEntry("result", null).containsEntry("retry_count", 0);
            assertThat((String) row(id).get("error_message")).contains("the handler's result was dropped");
            await().atMost(Duration.ofSeconds(5)).until(() -> !cancelledEvents.isEmpty());
            assertThat(cancelledEvents).containsExactly("cancelled by a producer while running; the handler's result was dropped");
        }

        /**
         * The same for a transactional handler: its job ends cancelled. Its writes commit with that
         * outcome, in the same transaction (documented on JobQueue.cancel).
         */
        @Test
        void cancelRequestWinsOverALaterDone_ofATransactionalHandler_whoseWritesCommitWithTheCancellation() {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch cancelled = new CountDownLatch(1);
            start(TASK, store.transactional((job, context, handle) -> {
                started.countDown();
                awaitIgnoringInterrupts(cancelled);
                handle.execute("INSERT INTO ledger (job_id, note) VALUES (?, 'done')", job.id());
                return JobOutcome.done();
            }));
            UUID id = enqueue(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);

            assertThat(queue.cancel(id)).isTrue();
            cancelled.countDown();

            awaitStatus(id, "cancelled");
            assertThat(db.queryForLong("SELECT count(*) FROM ledger WHERE job_id = ?", id)).isEqualTo(1);
        }

        @Test
        void cancellationRequestedThroughTheTable_reachesTheWorkerByHeartbeat() {
            CountDownLatch started = new CountDownLatch(1);
            start(TASK, (job, context) -> {
                started.countDown();
                while (!context.shouldStop()) {
                    Thread.onSpinWait();
                }
                throw new InterruptedException("stopping: " + context.isCancellationRequested());
            }, b -> b.heartbeatInterval(Duration.ofMillis(200)));
            UUID id = enqueue(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);
            // A producer that only writes the column (no NOTIFY): the heartbeat must notice.
            db.execute("UPDATE job_queue SET cancel_requested_at = now() WHERE id = ?", id);
            awaitStatus(id, "cancelled");
        }
    }

    @Nested
    class Shutdown {

        @Test
        void close_letsRunningJobsFinish_withinTheShutdownTimeout() {
            CountDownLatch started = new CountDownLatch(2);
            start(TASK, (job, context) -> {
                started.countDown();
                Thread.sleep(500);
                return JobOutcome.done();
            }, b -> b.shutdownTimeout(Duration.ofSeconds(10)));
            UUID first = enqueue(3);
            UUID second = enqueue(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);

            worker.close();

            assertThat(row(first)).containsEntry("status", "completed");
            assertThat(row(second)).containsEntry("status", "completed");
        }

        @Test
        void close_handsBackJobsStillRunningAtTheDeadline_withoutCountingAnAttempt() {
            CountDownLatch started = new CountDownLatch(3);
            start(TASK, (job, context) -> {
                started.countDown();
                Thread.sleep(60_000);
                return JobOutcome.done();
            }, b -> b.shutdownTimeout(Duration.ofMillis(300)));
            List<UUID> ids = List.of(enqueue(3), enqueue(3), enqueue(3));
            await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);

            long before = System.nanoTime();
            worker.close();
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(5));

            for (UUID id : ids) {
                assertThat(row(id)).containsEntry("status", "pending").containsEntry("attempt", 0).containsEntry("retry_count", 0);
            }
            worker.close(); // idempotent
        }
        /**
         * A handler that ignores its interrupt and an outcome the database cannot take (its row is
         * locked): close() still returns within the shutdown timeout plus its margin, and does not
         * hand back the job whose handler still runs; that job keeps this worker's lease until it
         * expires, and is then rescued as usual.
         */
        @Test
        void close_returnsWithinItsTimeoutPlusMargin_andLeavesAStillRunningHandlersJobToItsLease() throws Exception {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(2);
            CountDownLatch quickMayReturn = new CountDownLatch(1);
            AtomicInteger stuckRunning = new AtomicInteger();
            Duration timeout = Duration.ofSeconds(1);
            start(TASK, (job, context) -> {
                started.countDown();
                if (job.payload().n() == 1) {
                    stuckRunning.incrementAndGet();
                    awaitIgnoringInterrupts(release);
                    stuckRunning.decrementAndGet();
                } else {
                    awaitIgnoringInterrupts(quickMayReturn);
                }
                return JobOutcome.done();
            }, b -> b.shutdownTimeout(timeout).leaseDuration(Duration.ofSeconds(2)).heartbeatInterval(Duration.ofMillis(200)));
            UUID stuck = queue.enqueue(TASK, new Task(1), EnqueueOptions.defaults().maxRetries(3));
            UUID quick = queue.enqueue(TASK, new Task(2), EnqueueOptions.defaults().maxRetries(3));
            String owner = worker.workerId();
            Worker second = null;
            try (java.sql.Connection locker = db.dataSource().getConnection()) {
                await().atMost(Duration.ofSeconds(5)).until(() -> started.getCount() == 0);
                locker.setAutoCommit(false);
                try (var lock = locker.prepareStatement("SELECT 1 FROM " + db.schema() + ".job_queue WHERE id = ? FOR UPDATE")) {
                    lock.setObject(1, quick);
                    lock.executeQuery().close(); // the quick job's outcome now waits for this lock: a slow write
                }
                try (var lock = locker.prepareStatement("SELECT 1 FROM " + db.schema() + ".job_queue_worker WHERE id = ? FOR UPDATE")) {
                    lock.setString(1, owner);
                    lock.executeQuery().close(); // and so does the worker's leaving the registry
                }
                quickMayReturn.countDown();
                Thread.sleep(200);

                long before = System.nanoTime();
                // Bounded, so that a close() that waits for the locks fails this test instead of hanging it.
                CompletableFuture.runAsync(worker::close).get(30, TimeUnit.SECONDS);
                Duration took = Duration.ofNanos(System.nanoTime() - before);
                // One second more for the machine: a loaded CI machine stalls threads that long. A close()
                // that waits on the database waits until the rollback below, after this assertion.
                assertThat(took).isLessThan(timeout.plusMillis(Worker.CLOSE_MARGIN_MILLIS).plusSeconds(1));

                assertThat(stuckRunning).as("the handler still runs").hasValue(1);
                assertThat(row(stuck)).as("not handed back while its handler runs")
                        .containsEntry("status", "processing").containsEntry("attempt", 1).containsEntry("lease_owner", owner);
                locker.rollback();

                second = Worker.builder(store).rescueInterval(Duration.ofMillis(100)).pollInterval(Duration.ofMillis(100))
                        .handler(TASK, (job, context) -> JobOutcome.done()).build();
                second.start();
                awaitStatus(stuck, "completed");
                assertThat(row(stuck)).containsEntry("attempt", 2).containsEntry("retry_count", 1);
                assertThat(row(stuck).get("error_message")).as("completed: no error (V6)").isNull();
                assertThat(row(stuck).get("history").toString()).contains("lease expired at");
                assertThat(stuckRunning).as("the first handler ran on meanwhile").hasValue(1);
            } finally {
                release.countDown();
                if (second != null) {
                    second.close();
                }
            }
        }
    }

    record Reminder(Instant at, Duration every) {}

    @Nested
    class JavaTime {

        @Test
        void aPayloadWithInstantAndDuration_roundTripsWithNoConfiguration() {
            JobType<Reminder> remind = JobType.of("remind", Reminder.class);
            List<Reminder> seen = new CopyOnWriteArrayList<>();
            worker = Worker.builder(store).pollInterval(Duration.ofMillis(200))
                    .handler(remind, (job, context) -> {
                        seen.add(job.payload());
                        return JobOutcome.done(job.payload());
                    }).build();
            worker.start();
            Reminder reminder = new Reminder(Instant.parse("2030-01-02T03:04:05.123456Z"), Duration.ofMinutes(90));

            UUID id = queue.enqueue(remind, reminder);

            awaitStatus(id, "completed");
            assertThat(seen).containsExactly(reminder);
            assertThat(queue.result(id, Reminder.class)).contains(reminder);
            assertThat(db.queryForList("SELECT payload::text AS p FROM job_queue WHERE id = ?", id).get(0).get("p"))
                    .as("readable ISO-8601 in the table").isEqualTo("{\"at\": \"2030-01-02T03:04:05.123456Z\", \"every\": \"PT1H30M\"}");
        }
        @Test
        void theStoresMapper_isTheOneTheQueueAndTheWorkerUse() {
            JdbiJobStore snakeStore = JdbiJobStore.builder(jdbi).schema(db.schema()).objectMapper(
                    PayloadMapper.create().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)).build();
            JobType<Reminder> remind = JobType.of("remind", Reminder.class);
            List<Reminder> seen = new CopyOnWriteArrayList<>();
            worker = Worker.builder(snakeStore).pollInterval(Duration.ofMillis(200))
                    .handler(remind, (job, context) -> {
                        seen.add(job.payload());
                        return JobOutcome.done();
                    }).build();
            worker.start();
            Reminder reminder = new Reminder(Instant.parse("2030-01-02T03:04:05Z"), Duration.ofSeconds(1));

            UUID id = JdbiJobQueue.create(snakeStore).enqueue(remind, new Reminder(reminder.at(), reminder.every()));

            awaitStatus(id, "completed");
            assertThat(seen).containsExactly(reminder);
            assertThat(db.queryForList("SELECT payload::text AS p FROM job_queue WHERE id = ?", id).get(0).get("p"))
                    .isEqualTo("{\"at\": \"2030-01-02T03:04:05Z\", \"every\": \"PT1S\"}");
        }
    }

    @Nested
    class BadInput {

        @Test
        void payloadsThatDoNotMapToThePayloadClass_areRetriedWithAClearMessage_andTheWorkerKeepsServing() {
            Map<UUID, String> runs = new ConcurrentHashMap<>();
            start(TASK, (job, context) -> {
                runs.put(job.id(), "ran");
                return JobOutcome.done();
            });
            Map<UUID, String> ids = insertWrongShapes();
            UUID good = insertBySql("task", "'{\"n\": 7}'");

            awaitStatus(good, "completed");
            for (UUID id : ids.keySet()) {
                awaitStatus(id, "failed");
                assertThat((String) row(id).get("error_message"))
                        .as(ids.get(id))
                        .contains("payload of job task/" + id + " does not map to Task");
                assertThat(row(id)).as(ids.get(id) + ": every attempt counted, then failed once retries ran out")
                        .containsEntry("attempt", 4).containsEntry("retry_count", 4);
            }
            assertThat(runs.keySet()).containsExactly(good);
        }

        @Test
        void payloadsThatDoNotMap_failForGoodOnTheFirstAttempt_whenTheTypeSaysSo() {
            Map<UUID, String> runs = new ConcurrentHashMap<>();
            start(TASK.withPermanentPayloadFailures(), (job, context) -> {
                runs.put(job.id(), "ran");
                return JobOutcome.done();
            });
            Map<UUID, String> ids = insertWrongShapes();
            UUID good = insertBySql("task", "'{\"n\": 7}'");

            awaitStatus(good, "completed");
            for (UUID id : ids.keySet()) {
                awaitStatus(id, "failed");
                assertThat((String) row(id).get("error_message"))
                        .as(ids.get(id))
                        .contains("payload of job task/" + id + " does not map to Task");
                assertThat(row(id)).as(ids.get(id)).containsEntry("attempt", 1);
            }
            assertThat(runs.keySet()).containsExactly(good);
        }

        @Test
        void aPayloadWithAnExtraField_runs() {
            List<Task> seen = new CopyOnWriteArrayList<>();
            start(TASK, (job, context) -> {
                seen.add(job.payload());
                return JobOutcome.done();
            });
            UUID newer = insertBySql("task", "'{\"n\": 1, \"surprise\": true}'");

            awaitStatus(newer, "completed");
            assertThat(seen).containsExactly(new Task(1));
            assertThat(row(newer)).containsEntry("attempt", 1);
        }

        private Map<UUID, String> insertWrongShapes() {
            Map<String, String> wrongShapes = Map.of(
                    "string-encoded JSON", "'\"{\\\"n\\\": 1}\"'",
                    "a scalar", "'5'",
                    "JSON null", "'null'",
                    "a missing field", "'{}'");
            Map<UUID, String> ids = new ConcurrentHashMap<>();
            wrongShapes.forEach((what, json) -> ids.put(insertBySql("task", json), what));
            return ids;
        }

        @Test
        void jobOfATypeNoWorkerHandles_staysPendingForTheServiceThatDoes() {
            start(TASK, (job, context) -> JobOutcome.done());
            UUID foreign = insertBySql("send-email", "'{}'");
            UUID ours = insertBySql("task", "'{\"n\": 1}'");
            awaitStatus(ours, "completed");
            assertThat(row(foreign)).containsEntry("status", "pending").containsEntry("attempt", 0);
        }

        private UUID insertBySql(String type, String payloadLiteral) {
            return (UUID) db.queryForList("INSERT INTO job_queue (job_type, payload, max_retries) VALUES (?, "
                            + payloadLiteral + ", 3) RETURNING id", type).get(0).get("id");
        }
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (latch.getCount() > 0 && System.nanoTime() < until) {
            try {
                latch.await(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ignored) {
                // a handler that ignores interruption
            }
        }
    }
}
