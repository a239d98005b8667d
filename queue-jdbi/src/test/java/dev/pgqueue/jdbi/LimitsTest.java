package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.StoreException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.NextDueParams;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Global concurrency and rate limits, enforced by the claim across every worker of the table. */
@PostgresTest
class LimitsTest {

    record Work(int n) {}

    static final JobType<Work> WORK = JobType.of("work", Work.class);
    static final JobType<Work> OTHER = JobType.of("other-work", Work.class);
    private static final Duration LEASE = Duration.ofMinutes(5);

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;

    LimitsTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema())
                .policyRefreshInterval(Duration.ofMillis(50)).build();
        this.queue = JdbiJobQueue.create(store);
    }

    @BeforeEach
    void emptyTables() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_policy");
        db.execute("DELETE FROM job_queue_policy_start");
    }

    private void enqueue(JobType<Work> type, String queueName, int count) {
        queue.enqueueAll(type, IntStream.range(0, count).mapToObj(Work::new).toList(),
                EnqueueOptions.defaults().queue(queueName));
    }

    private void limit(QueuePolicy... policies) {
        store.policyPutMany(new PolicyParams(List.of(policies)));
    }

    private List<ClaimedJob> claim(String queueName, int limit, Instant now, String... types) {
        return store.jobClaim(new ClaimParams(queueName, Set.of(types.length == 0 ? new String[] {WORK.name()} : types),
                limit, "w", UUID.randomUUID(), LEASE, now));
    }

    private void complete(List<ClaimedJob> jobs) {
        List<Finish> finishes = jobs.stream()
                .map(j -> new Finish(j.id(), j.leaseToken(), FinishKind.COMPLETE, null, Duration.ZERO)).toList();
        assertThat(store.jobFinishMany(new FinishParams(finishes, null))).hasSameSizeAs(jobs);
    }

    private long processing(String queueName) {
        return db.queryForLong("SELECT count(*) FROM job_queue WHERE queue = ? AND status = 'processing'", queueName);
    }

    @Nested
    class ConcurrencyLimit {

        @Test
        void claim_underAGlobalConcurrencyLimit_takesOnlyWhatIsLeft_andMoreAsJobsFinish() {
            enqueue(WORK, "limited", 10);
            enqueue(WORK, "free", 10);
            limit(new QueuePolicy("limited", null, 3, null, null, null));

            List<ClaimedJob> first = claim("limited", 10, null);
            assertThat(first).hasSize(3);
            assertThat(claim("limited", 10, null)).as("at the limit").isEmpty();
            assertThat(claim("free", 10, null)).as("another queue is not limited").hasSize(10);

            complete(first.subList(0, 2));
            assertThat(claim("limited", 10, null)).hasSize(2);
            assertThat(processing("limited")).isEqualTo(3);
        }

        @Test
        void claim_underAJobTypeLimit_limitsThatTypeOnly_andTheQueueLimitStillApplies() {
            enqueue(WORK, "mixed", 5);
            enqueue(OTHER, "mixed", 5);
            limit(new QueuePolicy("mixed", WORK.name(), 1, null, null, null));

            List<ClaimedJob> claimed = claim("mixed", 10, null, WORK.name(), OTHER.name());
            assertThat(claimed).extracting(ClaimedJob::type).filteredOn(WORK.name()::equals).hasSize(1);
            assertThat(claimed).extracting(ClaimedJob::type).filteredOn(OTHER.name()::equals).hasSize(5);

            limit(new QueuePolicy("mixed", null, 7, null, null, null));
            complete(claimed);
            List<ClaimedJob> next = claim("mixed", 10, null, WORK.name(), OTHER.name());
            assertThat(next).hasSize(1).extracting(ClaimedJob::type).containsExactly(WORK.name());
        }

        @Test
        void aJobWhoseLeaseExpired_andWasRescued_noLongerCounts() {
            enqueue(WORK, "limited", 3);
            limit(new QueuePolicy("limited", null, 1, null, null, null));
            ClaimedJob crashed = claim("limited", 5, null).get(0);

            db.execute("UPDATE job_queue SET lease_expires_at = now() - interval '1 second' WHERE id = ?", crashed.id());
            store.jobRescue(new RescueParams(10, null));

            assertThat(claim("limited", 5, null)).hasSize(1);
        }

        @Test
        void aLimitLiftedBySql_appliesNoMore_afterTheRefreshInterval() {
            enqueue(WORK, "limited", 10);
            limit(new QueuePolicy("limited", null, 2, null, null, null));
            assertThat(claim("limited", 10, null)).hasSize(2);

            db.execute("DELETE FROM job_queue_policy WHERE queue = 'limited'");

            await().atMost(Duration.ofSeconds(5)).until(() -> claim("limited", 10, null).size() == 8);
            assertThat(store.jobNextDue(new NextDueParams("limited", Set.of(WORK.name()), null)))
                    .as("no hint left from the lifted limit (a worker would claim in a loop)").isEmpty();
        }

        @Test
        void aLimitSetBySql_appliesToAStoreThatNeverDeclaredIt_afterTheRefreshInterval() throws InterruptedException {
            enqueue(WORK, "limited", 10);
            assertThat(claim("limited", 1, null)).hasSize(1);

            db.execute("INSERT INTO job_queue_policy (queue, max_running) VALUES ('limited', 2)");
            Thread.sleep(200); // the store's refresh interval is 50 ms

            assertThat(claim("limited", 10, null)).as("the job running since before the limit does not count").hasSize(2);
            assertThat(claim("limited", 10, null)).isEmpty();
        }

        @Test
        void aClaimHeldBackByTheLimit_tellsTheWorkerToLookAgainSoon_once() {
            enqueue(WORK, "limited", 5);
            limit(new QueuePolicy("limited", null, 1, null, null, null));
            long before = System.nanoTime();
            claim("limited", 5, null);

            Optional<Duration> hint = store.jobNextDue(new NextDueParams("limited", Set.of(WORK.name()), null));
            if (System.nanoTime() - before < TimeUnit.MILLISECONDS.toNanos(100)) { // else the hint has passed (a stalled machine)
                assertThat(hint).hasValueSatisfying(d -> assertThat(d).isBetween(Duration.ZERO, Duration.ofMillis(100)));
            }
            assertThat(store.jobNextDue(new NextDueParams("unlimited", Set.of(WORK.name()), null))).isEmpty();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).untilAsserted(() ->
                    assertThat(store.jobNextDue(new NextDueParams("limited", Set.of(WORK.name()), null)))
                            .as("a hint that has passed is dropped").isEmpty());
        }

        /**
         * Counted, not timed: the entries of job_queue_lease_idx (every processing job) that counting a
         * limit's room returned. Each start's job is looked up by its id. With statistics taken while the
         * queue had a backlog and nothing was processing (as autovacuum's analyze may well find it), and
         * none of the starts, the planner once joined the starts to that index instead and walked it whole
         * once per start: 7,001,000 entries here, and 2.5 s per claim under a held xmin horizon with 1,000
         * starts (ClaimPastFloorTest).
         */
        @Test
        void theRoom_isCountedByLookingUpEachStartsJob_notByWalkingEveryProcessingJobPerStart() throws SQLException {
            enqueue(OTHER, "busy", 3_000);
            enqueue(WORK, "limited", 1_000);
            db.execute("ANALYZE job_queue"); // a backlog, nothing processing: the lease index looks empty
            db.execute("ANALYZE job_queue_policy_start"); // and no start
            assertThat(claim("busy", 3_000, null, OTHER.name())).hasSize(3_000); // now 3,000 entries in it
            limit(new QueuePolicy("limited", null, 2_000, null, null, null));
            assertThat(claim("limited", 1_000, null)).hasSize(1_000);

            Counted counted = countRoom(null, "job_queue_lease_idx");
            assertThat(counted.running()).as("running under the limit").isEqualTo(1_000);
            assertThat(counted.entries()).as("entries of job_queue_lease_idx read to count 1,000 starts").isLessThan(100);
        }

        /**
         * Counted, not timed: while a snapshot holds back the xmin horizon, each start the count deletes
         * stays in job_queue_policy_start_pkey, dead. Walked from the first start, counting the room reads
         * them all; from where the previous count said (the first start still running), none of them.
         */
        @Test
        void underAHeldHorizon_countingTheRoomFromWhereThePreviousCountSaid_walksNoStartItDeleted() throws Exception {
            enqueue(WORK, "limited", 2_001);
            limit(new QueuePolicy("limited", null, 5, null, null, null));
            try (Connection pin = db.dataSource().getConnection()) {
                pin.setAutoCommit(false);
                try (Statement st = pin.createStatement()) {
                    st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                    st.executeQuery("SELECT 1").close(); // from now on, nothing deleted can be removed
                }
                for (int i = 0; i < 400; i++) {
                    List<ClaimedJob> five = claim("limited", 10, null);
                    assertThat(five).hasSize(5);
                    complete(five);
                }
                ClaimedJob running = claim("limited", 1, null).get(0); // the 2,001st: the one start still running
                long startedMicros = db.queryForLong("SELECT CAST(extract(epoch FROM started_at) * 1000000 AS bigint)"
                        + " FROM job_queue_policy_start WHERE job_id = ?", running.id());
                Instant started = Instant.EPOCH.plus(startedMicros, java.time.temporal.ChronoUnit.MICROS);

                Counted fromFirst = countRoom(null, "job_queue_policy_start_pkey");
                assertThat(fromFirst.running()).isEqualTo(1);
                assertThat(fromFirst.keptSince()).as("where the next count may begin").isEqualTo(started);
                assertThat(fromFirst.entries()).as("start index entries walked from the first start").isGreaterThan(2_000);

                Counted fromKept = countRoom(fromFirst.keptSince(), "job_queue_policy_start_pkey");
                assertThat(fromKept.running()).isEqualTo(1);
                assertThat(fromKept.entries()).as("start index entries walked from where the previous count said").isLessThan(10);
                pin.rollback();
            }
        }

        private record Counted(long running, Instant keptSince, long entries) {}

        /**
         * policy-capacity.sql for the queue "limited", walking its starts from {@code since}, in a
         * transaction rolled back after; with the entries of {@code index} it read.
         */
        private Counted countRoom(Instant since, String index) throws SQLException {
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                long before = entriesReturned(c, index);
                try (PreparedStatement ps = c.prepareStatement(SqlFiles.load("policy-capacity", db.schema()))) {
                    ps.setNull(1, Types.TIMESTAMP_WITH_TIMEZONE);
                    ps.setArray(2, c.createArrayOf("text", new String[] {"limited"}));
                    ps.setArray(3, c.createArrayOf("text", new String[] {"*"}));
                    ps.setArray(4, c.createArrayOf("text", new String[] {since == null ? null : since.toString()}));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        Counted counted = new Counted(rs.getLong(4), JdbcTime.instant(rs, 9), 0);
                        rs.close();
                        long entries = entriesReturned(c, index) - before;
                        c.rollback();
                        return new Counted(counted.running(), counted.keptSince(), entries);
                    }
                }
            }
        }

        private long entriesReturned(Connection c, String index) throws SQLException {
            return IndexEntries.returned(c, db.schema(), index);
        }

        @Test
        void aQueueWithoutLimits_isClaimedWithoutTouchingTheLimitTables() {
            enqueue(WORK, "free", 5);
            limit(new QueuePolicy("limited", null, 1, null, null, null));

            assertThat(claim("free", 10, null)).hasSize(5);
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_policy_start")).isZero();
        }
    }

    @Nested
    class RateLimit {

        @Test
        void claim_underARateLimit_startsAtMostNJobsInAnyWindow() {
            enqueue(WORK, "rated", 20);
            limit(new QueuePolicy("rated", null, null, 5, Duration.ofSeconds(10), null));
            Instant t0 = Instant.parse("2030-01-01T00:00:00Z");

            List<ClaimedJob> first = claim("rated", 10, t0);
            assertThat(first).hasSize(5);
            complete(first); // finished jobs still count as started within the window
            assertThat(claim("rated", 10, t0.plusSeconds(5))).isEmpty();
            assertThat(store.jobNextDue(new NextDueParams("rated", Set.of(WORK.name()), t0.plusSeconds(5))))
                    .as("look again when the window has room")
                    .hasValueSatisfying(d -> assertThat(d).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(5)));
            assertThat(claim("rated", 10, t0.plusSeconds(9).plusMillis(999))).isEmpty();
            assertThat(claim("rated", 3, t0.plusSeconds(10))).hasSize(3);
            assertThat(claim("rated", 10, t0.plusSeconds(12))).hasSize(2);
            assertThat(claim("rated", 10, t0.plusSeconds(22))).as("(t0+12s, t0+22s] holds no start").hasSize(5);
        }

        @Test
        void aRateLimitAndAConcurrencyLimit_bothHold() {
            enqueue(WORK, "both", 20);
            limit(new QueuePolicy("both", null, 2, 3, Duration.ofSeconds(10), null));
            Instant t0 = Instant.parse("2030-01-01T00:00:00Z");

            List<ClaimedJob> first = claim("both", 10, t0);
            assertThat(first).hasSize(2);
            complete(first);
            assertThat(claim("both", 10, t0.plusSeconds(1))).hasSize(1);
            assertThat(claim("both", 10, t0.plusSeconds(2))).isEmpty();
        }
    }

    @Nested
    class Workers {

        @Test
        void aGlobalLimitOf3_over4WorkersOf10Threads_neverHasMoreThan3Running() throws Exception {
            Observed observed = runLimited(true);

            assertThat(observed.maxSampled).as("most jobs processing at once, sampled in the table").isLessThanOrEqualTo(3);
            assertThat(observed.maxInHandlers).as("most handlers running at once").isLessThanOrEqualTo(3);
            assertThat(observed.maxInHandlers).as("the limit is used, not just respected").isEqualTo(3);
            assertThat(observed.samples).isGreaterThan(100);
        }

        @Test
        void withoutTheLimit_theSameWorkersRunMoreThan3AtOnce_soTheSamplingCanSeeIt() throws Exception {
            Observed observed = runLimited(false);

            assertThat(observed.maxSampled).isGreaterThan(3);
        }

        private Observed runLimited(boolean limited) throws Exception {
            int jobs = 120;
            enqueue(WORK, "limited", jobs);
            AtomicInteger running = new AtomicInteger();
            AtomicInteger maxInHandlers = new AtomicInteger();
            List<Worker> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                JdbiJobStore own = JdbiJobStore.builder(Jdbi.create(db.newDataSource("limited-" + w + "-" + limited, 4)))
                        .schema(db.schema()).migrate(false).build();
                Worker.Builder builder = Worker.builder(own).workerId("w" + w).queue("limited", 10)
                        .pollInterval(Duration.ofMillis(200))
                        .handler(WORK, (job, context) -> {
                            maxInHandlers.accumulateAndGet(running.incrementAndGet(), Math::max);
                            try {
                                Thread.sleep(15);
                            } finally {
                                running.decrementAndGet();
                            }
                            return JobOutcome.done();
                        });
                if (limited) {
                    builder.globalConcurrency("limited", 3);
                }
                workers.add(builder.build());
            }
            Observed observed = new Observed();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                while (sampling.get()) {
                    observed.maxSampled = Math.max(observed.maxSampled, processing("limited"));
                    observed.samples++;
                }
            });
            sampler.start(); // before the workers: the first may finish every job while the others start
            workers.forEach(Worker::start);
            try {
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed'") == jobs);
            } finally {
                sampling.set(false);
                sampler.join();
                workers.forEach(Worker::close);
            }
            observed.maxInHandlers = maxInHandlers.get();
            return observed;
        }

        @Test
        void aRateLimit_holdsOverEverySlidingWindow_acrossWorkers() {
            int jobs = 30;
            int starts = 5;
            Duration period = Duration.ofMillis(400);
            enqueue(WORK, "rated", jobs);
            List<Worker> workers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                workers.add(Worker.builder(store).workerId("r" + w).queue("rated", 10).pollInterval(Duration.ofMillis(200))
                        .rateLimit("rated", starts, period)
                        .handler(WORK, (job, context) -> JobOutcome.done())
                        .build());
            }
            workers.forEach(Worker::start);
            try {
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed'") == jobs);
            } finally {
                workers.forEach(Worker::close);
            }

            List<Instant> started = db.queryForList("SELECT processed_at FROM job_queue ORDER BY processed_at").stream()
                    .map(row -> ((Timestamp) row.get("processed_at")).toInstant()).toList();
            for (int i = 0; i < started.size(); i++) {
                Instant from = started.get(i);
                long inWindow = started.stream().filter(t -> !t.isBefore(from) && t.isBefore(from.plus(period))).count();
                assertThat(inWindow).as("starts within %s from %s", period, from).isLessThanOrEqualTo(starts);
            }
            assertThat(Duration.between(started.get(0), started.get(jobs - 1)))
                    .as("30 starts at 5 per 400 ms take at least 5 windows")
                    .isGreaterThanOrEqualTo(period.multipliedBy(jobs / starts - 1));
        }

        @Test
        void aWorker_writesTheLimitsItDeclares_andNeverLiftsOnes() {
            try (Worker worker = Worker.builder(store).queue("images", 4)
                    .globalConcurrency("images", 3)
                    .rateLimit("images", WORK, 100, Duration.ofMinutes(1))
                    .fairness("images")
                    .handler(WORK, (job, context) -> JobOutcome.done())
                    .build()) {
                worker.start();
            }
            try (Worker other = Worker.builder(store).queue("images", 4)
                    .globalConcurrency("images", 5)
                    .handler(WORK, (job, context) -> JobOutcome.done())
                    .build()) {
                other.start();
            }

            assertThat(store.policyList()).containsExactly(
                    new QueuePolicy("images", null, 5, null, null, true),
                    new QueuePolicy("images", WORK.name(), null, 100, Duration.ofMinutes(1), false));
        }

        static final class Observed {
            volatile long maxSampled;
            volatile long samples;
            volatile int maxInHandlers;
        }
    }

    @Nested
    class BadInput {

        @Test
        void declaringALimitBelowOne_isRejected_beforeAnythingIsWritten() {
            Worker.Builder builder = Worker.builder(store);

            assertThatThrownBy(() -> builder.globalConcurrency("images", 0)).isInstanceOf(ValidationException.class)
                    .hasMessage("expected globalConcurrency of queue images to be >= 1, got: 0");
            assertThatThrownBy(() -> builder.globalConcurrency("images", WORK, -1)).isInstanceOf(ValidationException.class)
                    .hasMessage("expected globalConcurrency of work in queue images to be >= 1, got: -1");
            assertThatThrownBy(() -> builder.rateLimit("images", 0, Duration.ofSeconds(1))).isInstanceOf(ValidationException.class)
                    .hasMessage("expected rateLimit starts of queue images to be >= 1, got: 0");
            assertThatThrownBy(() -> builder.rateLimit("images", 10, Duration.ZERO)).isInstanceOf(ValidationException.class)
                    .hasMessage("expected rateLimit period of queue images to be between PT0.001S and PT8760000H, got: PT0S");
            assertThatThrownBy(() -> builder.rateLimit("images", WORK, 10, null)).isInstanceOf(ValidationException.class)
                    .hasMessage("expected rateLimit period of work in queue images to be between PT0.001S and PT8760000H, got: null");
            assertThatThrownBy(() -> builder.fairness("no spaces")).isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected queue to be ");
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_policy")).isZero();
        }

        @Test
        void aLimitBelowOne_setBySql_isRejectedByTheTable() {
            assertThatThrownBy(() -> db.execute("INSERT INTO job_queue_policy (queue, max_running) VALUES ('q', 0)"))
                    .hasMessageContaining("job_queue_policy_max_running_check");
            assertThatThrownBy(() -> db.execute("INSERT INTO job_queue_policy (queue, max_starts) VALUES ('q', 5)"))
                    .hasMessageContaining("job_queue_policy_rate_check");
            assertThatThrownBy(() -> db.execute(
                    "INSERT INTO job_queue_policy (queue, max_starts, starts_period) VALUES ('q', 0, '1 second')"))
                    .hasMessageContaining("job_queue_policy_rate_check");
            assertThatThrownBy(() -> db.execute("INSERT INTO job_queue_policy (queue, job_type, fair) VALUES ('q', 'work', true)"))
                    .hasMessageContaining("job_queue_policy_fair_check");
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_policy")).isZero();
        }

        @Test
        void policiesForOneKeyInOneCall_areMerged() {
            limit(new QueuePolicy("q", null, 3, null, null, null), new QueuePolicy("q", null, null, 5, Duration.ofSeconds(1), null));

            assertThat(store.policyList()).containsExactly(new QueuePolicy("q", null, 3, 5, Duration.ofSeconds(1), false));
        }

        @Test
        void aLimitBelowOne_throughTheStore_isRejected_andNothingOfTheCallIsWritten() {
            assertThatThrownBy(() -> limit(
                    new QueuePolicy("a", null, 3, null, null, null),
                    new QueuePolicy("b", null, 0, null, null, null)))
                    .isInstanceOf(StoreException.class).hasMessageContaining("job_queue_policy_max_running_check");
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue_policy")).isZero();
        }
    }
}
