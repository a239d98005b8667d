package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two schemas in one database are two independent queues: jobs and notifications never cross. */
@PostgresTest
class WorkerSchemasTest {

    record Ping(int n) {}

    static final JobType<Ping> PING = JobType.of("ping", Ping.class);

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final String otherSchema;

    WorkerSchemasTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.otherSchema = db.schema() + "_b";
    }

    @AfterEach
    void dropOtherSchema() {
        db.execute("DROP SCHEMA IF EXISTS " + otherSchema + " CASCADE");
    }

    @Test
    void workersOnTwoSchemas_neverSeeEachOthersJobs() {
        JdbiJobStore storeA = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        JdbiJobStore storeB = JdbiJobStore.builder(jdbi).schema(otherSchema).build();
        Set<UUID> ranByA = ConcurrentHashMap.newKeySet();
        Set<UUID> ranByB = ConcurrentHashMap.newKeySet();
        Worker workerA = worker(storeA, ranByA);
        Worker workerB = worker(storeB, ranByB);
        List<UUID> jobsA = JdbiJobQueue.create(storeA).enqueueAll(PING, IntStream.range(0, 200).mapToObj(Ping::new).toList(), EnqueueOptions.defaults());
        List<UUID> jobsB = JdbiJobQueue.create(storeB).enqueueAll(PING, IntStream.range(0, 200).mapToObj(Ping::new).toList(), EnqueueOptions.defaults());
        workerA.start();
        workerB.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> ranByA.size() == 200 && ranByB.size() == 200);
        } finally {
            workerA.close();
            workerB.close();
        }
        assertThat(ranByA).containsExactlyInAnyOrderElementsOf(jobsA);
        assertThat(ranByB).containsExactlyInAnyOrderElementsOf(jobsB);
    }

    @Test
    void notificationsOfOneSchema_doNotReachTheOther() {
        JdbiJobStore storeA = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        JdbiJobStore storeB = JdbiJobStore.builder(jdbi).schema(otherSchema).build();
        List<String> heardByB = new CopyOnWriteArrayList<>();
        List<String> reconnectsOfB = new CopyOnWriteArrayList<>();
        try (JobStore.Subscription subscription = storeB.subscribe(new JobStore.StoreListener() {
            @Override
            public void jobsAvailable(String queue) {
                heardByB.add(queue);
            }

            @Override
            public void cancelRequested(UUID jobId) {
                heardByB.add("cancel " + jobId);
            }

            @Override
            public void reconnected() {
                reconnectsOfB.add("listening");
            }
        })) {
            await().atMost(Duration.ofSeconds(10)).until(() -> !reconnectsOfB.isEmpty());

            db.execute("INSERT INTO " + db.schema() + ".job_queue (job_type, queue) VALUES ('ping', 'from-a')");
            db.execute("INSERT INTO " + otherSchema + ".job_queue (job_type, queue) VALUES ('ping', 'from-b')");

            await().atMost(Duration.ofSeconds(5)).until(() -> heardByB.contains("from-b"));
            assertThat(heardByB).containsExactly("from-b");
            assertThat(storeA.schema()).isNotEqualTo(storeB.schema());
        }
    }

    private Worker worker(JdbiJobStore store, Set<UUID> ran) {
        return Worker.builder(store).handler(PING, (job, context) -> {
            ran.add(job.id());
            return JobOutcome.done();
        }).build();
    }
}
