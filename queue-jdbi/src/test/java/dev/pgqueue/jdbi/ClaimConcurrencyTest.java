package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.jdbi.Payloads.GenerateImage;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

@PostgresTest
class ClaimConcurrencyTest {

    private static final int JOBS = 10_000;
    private static final int WORKERS = 8;
    private static final int BATCH = 25;

    private final TestDatabase db;

    ClaimConcurrencyTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void claim_fromEightWorkersAtOnceTakesEveryJobExactlyOnce() throws Exception {
        JdbiJobStore setup = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        List<GenerateImage> payloads = IntStream.range(0, JOBS).mapToObj(i -> new GenerateImage("img-" + i, i)).toList();
        Set<UUID> enqueued = new HashSet<>(JdbiJobQueue.create(setup).enqueueAll(
                Payloads.GENERATE_IMAGE, payloads, EnqueueOptions.defaults()));
        assertThat(enqueued).hasSize(JOBS);

        CyclicBarrier start = new CyclicBarrier(WORKERS);
        ExecutorService threads = Executors.newFixedThreadPool(WORKERS);
        List<Future<List<UUID>>> results = new ArrayList<>();
        try {
            for (int w = 0; w < WORKERS; w++) {
                // A store, and a connection, of its own per worker, as in separate processes.
                JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.newDataSource("claimer-" + w, 1)))
                        .schema(db.schema()).migrate(false).build();
                String workerId = "worker-" + w;
                results.add(threads.submit(() -> claimUntilEmpty(store, workerId, start)));
            }
            List<UUID> claimed = new ArrayList<>();
            Map<String, Long> perWorker = new TreeMap<>();
            for (int w = 0; w < WORKERS; w++) {
                List<UUID> ids = results.get(w).get(120, TimeUnit.SECONDS);
                claimed.addAll(ids);
                if (!ids.isEmpty()) {
                    perWorker.put("worker-" + w, (long) ids.size());
                }
            }

            assertThat(claimed).as("no job claimed twice").doesNotHaveDuplicates();
            assertThat(new HashSet<>(claimed)).as("every job claimed, none lost").isEqualTo(enqueued);
            // The table agrees: every job processing once, under the lease of the worker that got it.
            assertThat(db.queryForLong("select count(*) from job_queue where status = 'processing' and attempt = 1"))
                    .isEqualTo(JOBS);
            Map<String, Long> owners = new TreeMap<>();
            db.queryForList("select lease_owner, count(*) as n from job_queue group by lease_owner")
                    .forEach(row -> owners.put((String) row.get("lease_owner"), (Long) row.get("n")));
            assertThat(owners).isEqualTo(perWorker);
        } finally {
            threads.shutdownNow();
        }
    }

    private static List<UUID> claimUntilEmpty(JdbiJobStore store, String workerId, CyclicBarrier start) throws Exception {
        start.await(30, TimeUnit.SECONDS);
        List<UUID> claimed = new ArrayList<>();
        while (true) {
            List<ClaimedJob> batch = store.jobClaim(new ClaimParams(EnqueueOptions.DEFAULT_QUEUE,
                    Set.of(Payloads.GENERATE_IMAGE.name()), BATCH, workerId, UUID.randomUUID(), Duration.ofMinutes(5), null));
            if (batch.isEmpty()) {
                return claimed;
            }
            assertThat(batch.size()).isLessThanOrEqualTo(BATCH);
            assertThat(batch).allSatisfy(job -> assertThat(job.attempt()).isEqualTo(1));
            batch.forEach(job -> claimed.add(job.id()));
        }
    }
}
