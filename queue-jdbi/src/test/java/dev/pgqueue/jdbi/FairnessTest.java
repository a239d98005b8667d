package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fair queues: claims round-robin across partition keys, so that no tenant's backlog starves another's jobs. */
@PostgresTest
class FairnessTest {

    private static final Logger log = LoggerFactory.getLogger(FairnessTest.class);

    record Task(String tenant, int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;

    FairnessTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
    }

    @BeforeEach
    void emptyTables() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_policy");
    }

    private void fair(String queueName) {
        store.policyPutMany(new PolicyParams(List.of(new QueuePolicy(queueName, null, null, null, null, true))));
    }

    private void enqueue(String queueName, String tenant, int count, EnqueueOptions options) {
        queue.enqueueAll(TASK, IntStream.range(0, count).mapToObj(n -> new Task(tenant, n)).toList(),
                options.queue(queueName));
    }

    private List<ClaimedJob> claim(JdbiJobStore from, String queueName, int limit) {
        return from.jobClaim(new ClaimParams(queueName, Set.of(TASK.name()), limit, "w", UUID.randomUUID(),
                Duration.ofMinutes(5), null));
    }

    /** How many of the claimed jobs each tenant got, by the tenant named in the payload. */
    private Map<String, Long> byTenant(List<ClaimedJob> claimed) {
        return claimed.stream().collect(Collectors.groupingBy(
                job -> job.payloadJson().replaceAll(".*\"tenant\": ?\"([^\"]*)\".*", "$1"), TreeMap::new, Collectors.counting()));
    }

    @Nested
    class FairClaims {

        @Test
        void aFairClaim_takesRoundRobinAcrossPartitionKeys() {
            fair("fair");
            enqueue("fair", "big", 100, EnqueueOptions.defaults().partitionKey("big"));
            enqueue("fair", "small", 3, EnqueueOptions.defaults().partitionKey("small"));
            enqueue("fair", "tiny", 1, EnqueueOptions.defaults().partitionKey("tiny"));

            // Rounds in key order: big, small, tiny; big, small; big.
            assertThat(byTenant(claim(store, "fair", 6))).containsExactlyInAnyOrderEntriesOf(
                    Map.of("big", 3L, "small", 2L, "tiny", 1L));
        }

        /**
         * The fair claim commits on its own (autocommit) before the claim that fills the rest runs; if
         * that one fails (here a trigger rejects the unkeyed job), the jobs the fair claim took are
         * returned to run, not left processing under a lease nobody holds until it expires.
         */
        @Test
        void whenTheFillFails_theJobsTheFairClaimTookAreReturned_notLeftProcessing() {
            fair("fair");
            enqueue("fair", "a", 1, EnqueueOptions.defaults().partitionKey("a"));
            enqueue("fair", "b", 1, EnqueueOptions.defaults().partitionKey("b"));
            enqueue("fair", "none", 1, EnqueueOptions.defaults());
            db.execute("CREATE FUNCTION fill_fails() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN RAISE EXCEPTION 'the fill fails'; END $$");
            db.execute("CREATE TRIGGER fill_fails BEFORE UPDATE ON job_queue FOR EACH ROW"
                    + " WHEN (OLD.partition_key IS NULL AND OLD.user_id IS NULL AND NEW.status = 'processing')"
                    + " EXECUTE FUNCTION fill_fails()");
            try {
                List<ClaimedJob> claimed = claim(store, "fair", 10);

                assertThat(byTenant(claimed)).containsExactlyInAnyOrderEntriesOf(Map.of("a", 1L, "b", 1L));
                assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'processing'")).isEqualTo(2);
                assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'pending' AND partition_key IS NULL"))
                        .isEqualTo(1);
            } finally {
                db.execute("DROP TRIGGER fill_fails ON job_queue");
                db.execute("DROP FUNCTION fill_fails()");
            }
        }

        @Test
        void aQueueThatIsNotFair_isClaimedInClaimOrder_soTheFirstBacklogGoesFirst() {
            enqueue("plain", "big", 100, EnqueueOptions.defaults().partitionKey("big"));
            enqueue("plain", "small", 3, EnqueueOptions.defaults().partitionKey("small"));

            assertThat(byTenant(claim(store, "plain", 6))).containsExactlyEntriesOf(Map.of("big", 6L));
        }

        @Test
        void theSeedsUserId_isThePartitionKey_whenAJobHasNone() {
            fair("fair");
            UUID ann = UUID.randomUUID();
            UUID bob = UUID.randomUUID();
            enqueue("fair", "ann", 50, EnqueueOptions.defaults().userId(ann));
            enqueue("fair", "bob", 2, EnqueueOptions.defaults().userId(bob));
            enqueue("fair", "bob-as-tenant-x", 2, EnqueueOptions.defaults().userId(bob).partitionKey("x"));

            assertThat(byTenant(claim(store, "fair", 6))).containsExactlyInAnyOrderEntriesOf(
                    Map.of("ann", 2L, "bob", 2L, "bob-as-tenant-x", 2L));
        }

        @Test
        void withMoreKeysThanOneClaimTakes_successiveClaimsMoveOnThroughTheKeys() {
            fair("fair");
            for (int k = 0; k < 12; k++) {
                enqueue("fair", "t" + (char) ('a' + k), 3, EnqueueOptions.defaults().partitionKey("t" + (char) ('a' + k)));
            }

            List<Map<String, Long>> rounds = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                rounds.add(byTenant(claim(store, "fair", 4)));
            }

            assertThat(rounds.get(0).keySet()).containsExactly("ta", "tb", "tc", "td");
            assertThat(rounds.get(1).keySet()).containsExactly("te", "tf", "tg", "th");
            assertThat(rounds.get(2).keySet()).containsExactly("ti", "tj", "tk", "tl");
            assertThat(byTenant(claim(store, "fair", 4)).keySet()).as("around again").containsExactly("ta", "tb", "tc", "td");
        }

        @Test
        void jobsWithoutAKey_fillWhatTheKeysLeave() {
            fair("fair");
            enqueue("fair", "keyed", 1, EnqueueOptions.defaults().partitionKey("keyed"));
            enqueue("fair", "none", 5, EnqueueOptions.defaults());

            assertThat(byTenant(claim(store, "fair", 4))).containsExactlyInAnyOrderEntriesOf(Map.of("keyed", 1L, "none", 3L));
        }

        @Test
        void withinAKey_jobsKeepPriorityOrder() {
            fair("fair");
            enqueue("fair", "late", 3, EnqueueOptions.defaults().partitionKey("a"));
            enqueue("fair", "urgent", 1, EnqueueOptions.defaults().partitionKey("a").priority(-5));
            enqueue("fair", "b", 3, EnqueueOptions.defaults().partitionKey("b"));

            assertThat(byTenant(claim(store, "fair", 2))).containsExactlyInAnyOrderEntriesOf(Map.of("urgent", 1L, "b", 1L));
        }
    }

    @Nested
    class Workers {

        /**
         * The scenario: one tenant with 100,000 queued jobs, another with 10. The workers are
         * busy with the big backlog when the small tenant's jobs arrive; with fairness, those run
         * within the next claims instead of after the backlog. Reports the small tenant's waits
         * (start minus enqueue, both by the database's clock).
         */
        @Test
        void aTenantWith10Jobs_isNotStarvedByOneWith100000() {
            UUID big = UUID.randomUUID();
            UUID small = UUID.randomUUID();
            for (int chunk = 0; chunk < 10; chunk++) {
                enqueue("tenants", "big", 10_000, EnqueueOptions.defaults().userId(big));
            }
            db.execute("ANALYZE job_queue");

            List<Worker> workers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                workers.add(Worker.builder(store).workerId("fair-" + w).queue("tenants", 8)
                        .pollInterval(Duration.ofMillis(200))
                        .fairness("tenants")
                        .handler(TASK, (job, context) -> {
                            Thread.sleep(2);
                            return JobOutcome.done();
                        })
                        .build());
            }
            workers.forEach(Worker::start);
            long bigBefore;
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> db.queryForLong(
                        "SELECT count(*) FROM job_queue WHERE user_id = ? AND status = 'completed'", big) >= 1_000);
                bigBefore = db.queryForLong("SELECT count(*) FROM job_queue WHERE user_id = ? AND status <> 'pending'", big);
                enqueue("tenants", "small", 10, EnqueueOptions.defaults().userId(small));
                await().atMost(Duration.ofSeconds(60)).until(() -> db.queryForLong(
                        "SELECT count(*) FROM job_queue WHERE user_id = ? AND status = 'completed'", small) == 10);
            } finally {
                workers.forEach(Worker::close);
            }

            List<Double> waits = db.queryForList("SELECT extract(epoch FROM processed_at - created_at) * 1000 AS ms"
                            + " FROM job_queue WHERE user_id = ? ORDER BY 1", small).stream()
                    .map(row -> ((Number) row.get("ms")).doubleValue()).toList();
            double p50 = waits.get(4);
            double p95 = waits.get(9); // nearest rank: ceil(0.95 * 10) = the 10th of 10
            // Claimed by the time the small tenant's last job was, not by the time the test thread got here.
            long bigMeanwhile = db.queryForLong("SELECT count(*) FROM job_queue WHERE user_id = ? AND processed_at <= "
                    + "(SELECT max(processed_at) FROM job_queue WHERE user_id = ?)", big, small) - bigBefore;
            log.info("fairness, 100,000 vs 10 jobs: the small tenant's wait p50 {} ms, p95 {} ms (max of 10); "
                    + "jobs of the big tenant started before it arrived {}, while its 10 ran {}",
                    String.format("%.1f", p50), String.format("%.1f", p95), bigBefore, bigMeanwhile);
            // Behind the backlog it would wait at least 12 s (99,000 jobs of 2 ms on 16 slots); 5 s leaves a
            // loaded machine room.
            assertThat(p95).as("the small tenant's p95 wait in ms").isLessThan(5_000);
            assertThat(bigBefore + bigMeanwhile).as("the small tenant did not wait for the big backlog").isLessThan(20_000);
        }

        @Test
        void withoutFairness_theSameSmallTenantWaitsBehindTheBacklog() {
            UUID big = UUID.randomUUID();
            UUID small = UUID.randomUUID();
            enqueue("unfair", "big", 30_000, EnqueueOptions.defaults().userId(big));
            enqueue("unfair", "small", 10, EnqueueOptions.defaults().userId(small));

            try (Worker worker = Worker.builder(store).queue("unfair", 8).pollInterval(Duration.ofMillis(200))
                    .handler(TASK, (job, context) -> JobOutcome.done())
                    .build()) {
                worker.start();
                await().atMost(Duration.ofSeconds(60)).until(() -> db.queryForLong(
                        "SELECT count(*) FROM job_queue WHERE user_id = ? AND status = 'completed'", big) >= 1_000);
            }

            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE user_id = ? AND status <> 'pending'", small))
                    .isZero();
        }
    }
}
