package dev.pgqueue.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Schedule;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

@PostgresTest
class QueueTesterTest {

    record Digest(String email) {}

    record Resize(int width) {}

    record Sent(String to) {}

    static final JobType<Digest> DIGEST = JobType.of("send-digest", Digest.class);
    static final JobType<Resize> RESIZE = JobType.of("resize", Resize.class).withRetryPolicy(RetryPolicy.fixed(Duration.ofMinutes(1)));
    static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final TestClock clock = TestClock.at(START);
    private final JdbiJobQueue queue;

    QueueTesterTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.queue = JdbiJobQueue.builder(store).clock(clock).build();
    }

    @BeforeEach
    void emptyQueue() {
        db.execute("DELETE FROM job_queue");
        db.execute("CREATE TABLE IF NOT EXISTS sent (email text PRIMARY KEY)");
        db.execute("DELETE FROM sent");
    }

    private QueueTester.Builder tester() {
        return QueueTester.builder(store).clock(clock);
    }

    private QueueTester testerWith(JobHandler<Digest> digests) {
        return tester().handler(DIGEST, digests).build();
    }

    @Nested
    class AssertEnqueued {

        @Test
        void findsAMatchingJob_inAnyStatus_andReturnsIt() {
            UUID id = queue.enqueue(DIGEST, new Digest("ann@example.com"));
            QueueTester tester = testerWith((job, context) -> JobOutcome.done());

            JobSnapshot found = tester.assertEnqueuedMatching(DIGEST, digest -> digest.email().startsWith("ann"));
            tester.drain();

            assertThat(found.id()).isEqualTo(id);
            assertThat(tester.assertEnqueued(DIGEST, new Digest("ann@example.com")).status()).isEqualTo(JobStatus.COMPLETED);
        }

        @Test
        void byPayload_comparesAsJson_soFieldOrderDoesNotMatter() {
            db.execute("INSERT INTO job_queue (job_type, payload) VALUES ('resize', '{ \"width\" : 640 }')");

            JobSnapshot found = tester().build().assertEnqueued(RESIZE, new Resize(640));

            assertThat(found.payloadJson()).isEqualTo("{\"width\": 640}");
        }

        @Test
        void failure_listsTheJobsOfThatType_withStatusAndPayload_andCountsTheOthers() {
            UUID bob = queue.enqueue(DIGEST, new Digest("bob@example.com"));
            UUID cid = queue.enqueue(DIGEST, new Digest("cid@example.com"));
            queue.cancel(cid);
            queue.enqueueAll(RESIZE, List.of(new Resize(1), new Resize(2)), EnqueueOptions.defaults());
            db.execute("INSERT INTO job_queue (job_type, payload) VALUES ('report', '{}')");
            QueueTester tester = tester().build();

            assertThatThrownBy(() -> tester.assertEnqueuedMatching(DIGEST, digest -> digest.email().startsWith("ann")))
                    .isInstanceOf(AssertionError.class)
                    .hasMessage("expected a job of type send-digest with a matching payload to be enqueued,"
                            + " but none of the 2 jobs of that type matched:\n"
                            + "  " + bob + " pending    {\"email\": \"bob@example.com\"}\n"
                            + "  " + cid + " cancelled  {\"email\": \"cid@example.com\"}\n"
                            + "jobs of other types: report (1), resize (2)");
            assertThatThrownBy(() -> tester.assertEnqueued(DIGEST, new Digest("ann@example.com")))
                    .hasMessageStartingWith("expected a job of type send-digest with payload {\"email\":\"ann@example.com\"}"
                            + " to be enqueued, but none of the 2 jobs of that type matched:\n  " + bob);
        }

        @Test
        void failure_onAnEmptyQueue_saysSo() {
            assertThatThrownBy(() -> tester().build().assertEnqueuedMatching(DIGEST, digest -> true))
                    .hasMessage("expected a job of type send-digest with a matching payload to be enqueued,"
                            + " but there is no job of that type; the queue is empty");
        }

        @Test
        void failure_marksPayloadsThatDoNotMap_andCutsLongLists() {
            db.execute("INSERT INTO job_queue (job_type, payload) VALUES ('send-digest', '{\"mail\": \"typo\"}')");
            queue.enqueueAll(DIGEST, IntStream.range(0, 25).mapToObj(i -> new Digest(i + "@example.com")).toList(),
                    EnqueueOptions.defaults());

            assertThatThrownBy(() -> tester().build().assertEnqueuedMatching(DIGEST, digest -> false))
                    .hasMessageContaining(" pending    {\"mail\": \"typo\"}  (does not map to Digest)\n")
                    .hasMessageContaining("\n  … and 6 more\nthere are no jobs of other types");
        }

        @Test
        void assertNotEnqueuedMatching_passesWithoutAMatch_andNamesTheMatchesOtherwise() {
            UUID ann = queue.enqueue(DIGEST, new Digest("ann@example.com"));
            QueueTester tester = tester().build();

            tester.assertNotEnqueuedMatching(DIGEST, digest -> digest.email().startsWith("bob"));
            assertThatThrownBy(() -> tester.assertNotEnqueuedMatching(DIGEST, digest -> digest.email().startsWith("ann")))
                    .isInstanceOf(AssertionError.class)
                    .hasMessage("expected no job of type send-digest with a matching payload to be enqueued, but found 1 job:\n"
                            + "  " + ann + " pending    {\"email\": \"ann@example.com\"}");
        }
    }

    @Nested
    class Run {

        @Test
        void runsOneJobThroughItsHandler_andRecordsTheOutcomeAsAWorkerWould() {
            UUID other = queue.enqueue(DIGEST, new Digest("other@example.com"));
            UUID id = queue.enqueue(DIGEST, new Digest("ann@example.com"), EnqueueOptions.defaults().delay(Duration.ofDays(1)));
            QueueTester tester = testerWith((job, context) -> {
                context.reportProgress(100, "sent");
                return JobOutcome.done(new Sent(job.payload().email()));
            });

            JobSnapshot after = tester.run(id);

            assertThat(after.status()).isEqualTo(JobStatus.COMPLETED);
            assertThat(after.attempt()).isEqualTo(1);
            assertThat(after.completedAt()).isEqualTo(START);
            assertThat(after.resultJson()).isEqualTo("{\"to\": \"ann@example.com\"}");
            assertThat(after.progress().message()).isEqualTo("sent");
            assertThat(queue.find(other).orElseThrow().status()).as("only that job ran").isEqualTo(JobStatus.PENDING);
        }

        @Test
        void aHandlerThatThrows_leavesTheJobForItsRetry_atTheClocksTimePlusTheBackoff() {
            QueueTester tester = tester().handler(RESIZE, (job, context) -> {
                throw new IllegalStateException("no such image");
            }).build();

            JobSnapshot after = tester.run(RESIZE, new Resize(640));

            assertThat(after.status()).isEqualTo(JobStatus.PENDING);
            assertThat(after.retryCount()).isEqualTo(1);
            assertThat(after.runAt()).isEqualTo(START.plus(Duration.ofMinutes(1)));
            assertThat(after.errorMessage()).startsWith("java.lang.IllegalStateException: no such image\n\tat ");
        }

        @Test
        void aTransactionalHandler_commitsItsWritesWithItsOutcome_orNeither() {
            QueueTester tester = testerWith(store.transactional((job, context, handle) -> {
                handle.execute("INSERT INTO sent (email) VALUES (?)", job.payload().email());
                if (job.payload().email().startsWith("fail")) {
                    throw new IllegalStateException("mail server down");
                }
                return JobOutcome.done();
            }));

            JobSnapshot ok = tester.run(DIGEST, new Digest("ann@example.com"));
            JobSnapshot failed = tester.run(DIGEST, new Digest("fail@example.com"));

            assertThat(ok.status()).isEqualTo(JobStatus.COMPLETED);
            assertThat(failed.status()).isEqualTo(JobStatus.PENDING);
            assertThat(failed.errorMessage()).contains("mail server down");
            assertThat(db.queryForList("SELECT email FROM sent")).extracting(row -> row.get("email")).containsExactly("ann@example.com");
        }

        @Test
        void aJobThatIsNotPending_orUnknown_orWithoutAHandler_failsClearly_andNothingRuns() {
            AtomicInteger runs = new AtomicInteger();
            QueueTester tester = testerWith((job, context) -> {
                runs.incrementAndGet();
                return JobOutcome.done();
            });
            UUID done = tester.run(DIGEST, new Digest("ann@example.com")).id();
            UUID resize = queue.enqueue(RESIZE, new Resize(1));
            UUID unknown = UUID.fromString("00000000-0000-7000-8000-000000000001");

            assertThatThrownBy(() -> tester.run(done))
                    .isInstanceOf(AssertionError.class)
                    .hasMessage("expected job send-digest/" + done + " to be pending to run it, but it is completed");
            assertThatThrownBy(() -> tester.run(unknown))
                    .hasMessage("expected job " + unknown + " to exist in JdbiJobStore[schema=" + db.schema() + "] to run it, but there is no such job");
            assertThatThrownBy(() -> tester.run(resize))
                    .hasMessage("expected a handler for job type resize (job " + resize + ") to run it, but this tester has"
                            + " handlers for [send-digest]; register one with QueueTester.builder(store).handler(type, handler)");
            assertThatThrownBy(() -> tester.run(RESIZE, new Resize(2)))
                    .hasMessageStartingWith("expected a handler for job type resize to run it");
            assertThat(runs).hasValue(1);
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue")).as("nothing enqueued by the failed run").isEqualTo(2);
            assertThat(queue.find(resize).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
        }
    }

    @Nested
    class Drain {

        @Test
        void runsWhatIsDueByTheClock_andLaterWhatCameDue_withoutSleeping() {
            QueueTester tester = testerWith((job, context) -> JobOutcome.done());
            UUID now = queue.enqueue(DIGEST, new Digest("now@example.com"));
            UUID inAnHour = queue.enqueue(DIGEST, new Digest("later@example.com"), EnqueueOptions.defaults().delay(Duration.ofHours(1)));

            assertThat(tester.drain()).extracting(JobSnapshot::id).containsExactly(now);
            assertThat(tester.drain()).isEmpty();

            clock.advance(Duration.ofMinutes(59));
            assertThat(tester.drain()).isEmpty();
            clock.advance(Duration.ofMinutes(1));
            assertThat(tester.drain()).extracting(JobSnapshot::id).containsExactly(inAnHour);
        }

        @Test
        void retriesComeDueAsTheClockPassesTheirBackoff() {
            AtomicInteger runs = new AtomicInteger();
            QueueTester tester = tester().handler(RESIZE, (job, context) -> {
                if (runs.incrementAndGet() < 3) {
                    throw new IllegalStateException("flaky");
                }
                return JobOutcome.done();
            }).build();
            UUID id = queue.enqueue(RESIZE, new Resize(1));

            assertThat(tester.drain()).extracting(JobSnapshot::status).containsExactly(JobStatus.PENDING);
            clock.advance(Duration.ofSeconds(59));
            assertThat(tester.drain()).isEmpty();
            clock.advance(Duration.ofSeconds(1));
            assertThat(tester.drain()).extracting(JobSnapshot::status).containsExactly(JobStatus.PENDING);
            clock.advance(Duration.ofMinutes(1));
            assertThat(tester.drain()).extracting(JobSnapshot::status).containsExactly(JobStatus.COMPLETED);
            assertThat(queue.find(id).orElseThrow().attempt()).isEqualTo(3);
        }

        @Test
        void runsInClaimOrder_acrossQueues_andRunsWhatRunningMadeDue() {
            QueueTester tester = testerWith((job, context) ->
                    job.attempt() == 1 && job.payload().email().equals("snooze") ? JobOutcome.snooze(Duration.ZERO) : JobOutcome.done());
            UUID low = queue.enqueue(DIGEST, new Digest("low"), EnqueueOptions.defaults().priority(5));
            UUID snooze = queue.enqueue(DIGEST, new Digest("snooze"), EnqueueOptions.defaults().queue("mail"));
            UUID high = queue.enqueue(DIGEST, new Digest("high"), EnqueueOptions.defaults().priority(-5).queue("other"));

            List<JobSnapshot> ran = tester.drain();

            assertThat(ran).extracting(JobSnapshot::id).containsExactly(high, snooze, snooze, low);
            assertThat(ran).extracting(JobSnapshot::status)
                    .containsExactly(JobStatus.COMPLETED, JobStatus.PENDING, JobStatus.COMPLETED, JobStatus.COMPLETED);
        }

        @Test
        void leavesJobsOfTypesWithoutAHandlerAlone() {
            UUID resize = queue.enqueue(RESIZE, new Resize(1));

            assertThat(testerWith((job, context) -> JobOutcome.done()).drain()).isEmpty();
            assertThat(queue.find(resize).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
        }

        @Test
        void aHandlerThatNeverStops_failsTheDrainWithWhatItRan() {
            QueueTester tester = tester().maxDrainRuns(5)
                    .handler(DIGEST, (job, context) -> JobOutcome.snooze(Duration.ZERO)).build();
            UUID id = queue.enqueue(DIGEST, new Digest("loop"));

            assertThatThrownBy(tester::drain)
                    .isInstanceOf(AssertionError.class)
                    .hasMessageStartingWith("drain() ran 5 jobs and jobs are still due, e.g. send-digest/" + id
                            + ": a handler may be enqueueing or snoozing without end")
                    .hasMessageEndingWith("the last ones ran:" + ("\n  send-digest/" + id + " pending").repeat(5));
        }

        @Test
        void runsAWorkflow_eachJobAfterItsDependencies_andTheBatchCallbackLast() {
            List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
            QueueTester tester = tester()
                    .handler(RESIZE, (job, context) -> {
                        ran.add("resize " + job.payload().width());
                        return JobOutcome.done(job.payload().width());
                    })
                    .handler(DIGEST, (job, context) -> {
                        int total = queue.dependencies(job.id()).stream().mapToInt(d -> Integer.parseInt(d.resultJson())).sum();
                        ran.add("digest " + total);
                        return JobOutcome.done();
                    })
                    .build();
            dev.pgqueue.Batch batch = queue.enqueueBatch(RESIZE, List.of(new Resize(100), new Resize(200)),
                    EnqueueOptions.defaults(), DIGEST, new Digest("ann@example.com"), EnqueueOptions.defaults());
            UUID waiting = batch.callbackId();

            assertThatThrownBy(() -> tester.run(waiting)).isInstanceOf(AssertionError.class).hasMessageContaining("waiting");
            assertThat(tester.drain()).extracting(JobSnapshot::status).containsOnly(JobStatus.COMPLETED).hasSize(3);

            assertThat(ran).containsExactly("resize 100", "resize 200", "digest 300");
        }

        @Test
        void recurringTicks_comeDueWithTheClock_andEachRunsOnce() {
            AtomicInteger runs = new AtomicInteger();
            QueueTester tester = tester()
                    .handler(DIGEST, (job, context) -> {
                        runs.incrementAndGet();
                        return JobOutcome.done();
                    })
                    .recurring("hourly-digest", DIGEST, new Digest("all"), Schedule.every(Duration.ofHours(1)))
                    .build();

            assertThat(tester.drain()).isEmpty();
            clock.advance(Duration.ofHours(3));
            assertThat(tester.drain()).extracting(JobSnapshot::dedupeKey).containsExactly(
                    "recurring:hourly-digest@2030-01-01T01:00:00Z",
                    "recurring:hourly-digest@2030-01-01T02:00:00Z",
                    "recurring:hourly-digest@2030-01-01T03:00:00Z");
            assertThat(tester.drain()).isEmpty();
            assertThat(runs).hasValue(3);
        }
    }

    @Test
    void builderRejectsBadInput_withPgqueuesMessages() {
        QueueTester.Builder builder = tester().handler(DIGEST, (job, context) -> JobOutcome.done());

        assertThatThrownBy(() -> builder.handler(DIGEST, (job, context) -> JobOutcome.done()))
                .hasMessage("expected handler to be registered once per job type, got: \"send-digest (twice)\"");
        assertThatThrownBy(() -> builder.maxDrainRuns(0)).hasMessage("expected maxDrainRuns to be >= 1, got: 0");
        assertThatThrownBy(() -> builder.recurring("x", DIGEST, new Digest("a"), Schedule.every(Duration.ofHours(1)),
                EnqueueOptions.defaults().runAt(START)))
                .hasMessageStartingWith("expected options of recurring job x to be without runAt or delay");
        assertThatThrownBy(() -> QueueTester.builder(null)).hasMessage("expected store to be non-null, got: null");
    }
}
