package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

@PostgresTest
class WorkerEndToEndTest extends WorkerFixture {

    record Resize(int n) {}

    record Thumbnail(int n) {}

    record Report(String name) {}

    static final JobType<Resize> RESIZE = JobType.of("resize", Resize.class);
    static final JobType<Thumbnail> THUMBNAIL = JobType.of("thumbnail", Thumbnail.class);
    static final JobType<Report> REPORT = JobType.of("report", Report.class);


    WorkerEndToEndTest(TestDatabase db) {
        super(db);
    }

    @Test
    void twoWorkers_runEveryJobOfTwoQueuesAndThreeTypesExactlyOnce() {
        List<UUID> enqueued = new ArrayList<>();
        enqueued.addAll(queue.enqueueAll(RESIZE, IntStream.range(0, 2000).mapToObj(Resize::new).toList(),
                EnqueueOptions.defaults().queue("images")));
        enqueued.addAll(queue.enqueueAll(THUMBNAIL, IntStream.range(0, 1500).mapToObj(Thumbnail::new).toList(),
                EnqueueOptions.defaults().queue("images")));
        enqueued.addAll(queue.enqueueAll(REPORT, IntStream.range(0, 1500).mapToObj(i -> new Report("r" + i)).toList(),
                EnqueueOptions.defaults()));

        Map<UUID, Integer> runs = new ConcurrentHashMap<>();
        Map<UUID, String> ranOn = new ConcurrentHashMap<>();
        List<Worker> workers = new ArrayList<>();
        for (String name : List.of("worker-a", "worker-b")) {
            workers.add(Worker.builder(store)
                    .workerId(name)
                    .queue("images", 8)
                    .queue("default", 4)
                    .handler(RESIZE, (job, context) -> record(runs, ranOn, job.id(), name))
                    .handler(THUMBNAIL, (job, context) -> record(runs, ranOn, job.id(), name))
                    .handler(REPORT, (job, context) -> record(runs, ranOn, job.id(), name))
                    .build());
        }
        workers.forEach(Worker::start);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0);
        } finally {
            workers.forEach(Worker::close);
        }

        assertThat(runs.keySet()).containsExactlyInAnyOrderElementsOf(enqueued);
        assertThat(runs.values()).allMatch(count -> count == 1);
        assertThat(new HashSet<>(ranOn.values())).as("both workers took part").containsExactlyInAnyOrder("worker-a", "worker-b");
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed' AND attempt = 1"))
                .isEqualTo(5000);
        Set<String> owners = new HashSet<>();
        db.queryForList("SELECT DISTINCT lease_owner FROM job_queue").forEach(row -> owners.add((String) row.get("lease_owner")));
        assertThat(owners).containsExactlyInAnyOrder("worker-a", "worker-b");
    }

    private static JobOutcome record(Map<UUID, Integer> runs, Map<UUID, String> ranOn, UUID id, String worker) {
        runs.merge(id, 1, Integer::sum);
        ranOn.put(id, worker);
        return JobOutcome.done();
    }
}
