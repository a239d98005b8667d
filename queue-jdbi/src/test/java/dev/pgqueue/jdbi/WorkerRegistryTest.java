package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Schedule;
import dev.pgqueue.Worker;
import dev.pgqueue.admin.RecurringInfo;
import dev.pgqueue.admin.WorkerInfo;
import dev.pgqueue.spi.JobStore.UnservedJobs;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker registry (V7) as running workers keep it and {@link WorkerRegistry} reads it for the
 * admin API: each worker records itself at start, renews its heartbeat and running count, shows a
 * resize, removes itself on close; a dead worker's entry ages out; recurring schedules are listed
 * with their last and next tick.
 */
@PostgresTest
class WorkerRegistryTest {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);
    static final JobType<Task> REPORT = JobType.of("report", Task.class);

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final WorkerRegistry registry;
    private final List<Worker> workers = new ArrayList<>();

    WorkerRegistryTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.registry = new WorkerRegistry(store);
    }

    @BeforeEach
    void empty() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_worker");
    }

    @AfterEach
    void closeWorkers() {
        workers.forEach(Worker::close);
        workers.clear();
    }

    private Worker start(Worker.Builder builder) {
        Worker worker = builder.build();
        workers.add(worker);
        worker.start();
        return worker;
    }

    @Test
    void aWorker_recordsItselfAtStart_renewsItsHeartbeatAndRunningCount_andRemovesItselfOnClose() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Instant before = Instant.now().minusSeconds(1);
        Worker worker = start(Worker.builder(store)
                .workerId("registered-1")
                .queue("default", 3)
                .queue("mail", 1)
                .presenceInterval(Duration.ofMillis(200))
                .handler(TASK, (job, context) -> {
                    release.await();
                    return JobOutcome.done();
                })
                .handler(REPORT, (job, context) -> JobOutcome.done()));

        List<WorkerInfo> listed = registry.workers();
        assertThat(listed).hasSize(1);
        WorkerInfo info = listed.get(0);
        assertThat(info.id()).isEqualTo("registered-1");
        assertThat(info.pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(info.host()).isNotBlank();
        assertThat(info.queues()).isEqualTo(Map.of("default", 3, "mail", 1));
        assertThat(info.version()).isNotBlank().isNotEqualTo("unknown");
        assertThat(info.startedAt()).isAfter(before);
        assertThat(db.queryForList("SELECT job_types FROM job_queue_worker").get(0).get("job_types").toString())
                .contains("report").contains("task");

        JdbiJobQueue.create(store).enqueueAll(TASK, List.of(new Task(1), new Task(2)), EnqueueOptions.defaults());
        await().atMost(Duration.ofSeconds(5)).until(() -> registry.workers().get(0).running() == 2);
        Instant firstBeat = registry.workers().get(0).lastHeartbeat();
        await().atMost(Duration.ofSeconds(5)).until(() -> registry.workers().get(0).lastHeartbeat().isAfter(firstBeat));
        assertThat(db.queryForList("SELECT alive FROM job_queue_workers").get(0)).containsEntry("alive", true);

        release.countDown();
        worker.close();

        assertThat(registry.workers()).isEmpty();
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue_worker")).isZero();
    }

    @Test
    void resize_isShownInTheRegistry() {
        Worker worker = start(Worker.builder(store).workerId("resized").queue("default", 2)
                .handler(TASK, (job, context) -> JobOutcome.done()));

        worker.resize("default", 7);

        await().atMost(Duration.ofSeconds(5)).until(() -> registry.workers().get(0).queues().equals(Map.of("default", 7)));
    }

    @Test
    void aDeadWorkersEntry_isNotListed_andAgesOut() {
        db.execute("INSERT INTO job_queue_worker (id, host, pid, presence_interval, last_heartbeat, started_at)"
                + " VALUES ('long-dead', 'gone', 1, interval '1 second', now() - interval '11 seconds', now() - interval '1 hour')");
        db.execute("INSERT INTO job_queue_worker (id, host, pid, presence_interval, last_heartbeat, started_at)"
                + " VALUES ('just-dead', 'gone', 2, interval '1 second', now() - interval '4 seconds', now() - interval '1 hour')");
        assertThat(registry.workers()).as("neither is alive").isEmpty();

        start(Worker.builder(store).workerId("maintainer").rescueInterval(Duration.ofMillis(200))
                .handler(TASK, (job, context) -> JobOutcome.done()));

        await().atMost(Duration.ofSeconds(5)).until(() ->
                db.queryForLong("SELECT count(*) FROM job_queue_worker WHERE id = 'long-dead'") == 0);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue_worker WHERE id = 'just-dead'"))
                .as("dead for 4 of its intervals: listed as dead, kept until 10").isEqualTo(1);
        assertThat(registry.workers()).extracting(WorkerInfo::id).containsExactly("maintainer");
    }

    @Test
    void recurring_listsTheLiveWorkersSchedules_withTheirLastAndNextTick() {
        start(Worker.builder(store).workerId("scheduler")
                .pollInterval(Duration.ofMillis(200))
                .recurring("every-second", REPORT, new Task(0), Schedule.every(Duration.ofSeconds(1)),
                        EnqueueOptions.defaults().queue("reports"))
                .recurring("nightly", REPORT, new Task(0), Schedule.cron("0 3 * * *", "Europe/Berlin").skipMissed())
                .handler(TASK, (job, context) -> JobOutcome.done()));

        await().atMost(Duration.ofSeconds(5)).until(() -> registry.recurring().get(0).lastTick() != null);
        Instant now = Instant.now();
        List<RecurringInfo> recurring = registry.recurring();
        Instant after = Instant.now(); // the read takes time; a worker enqueues a tick up to 200 ms ahead of it

        assertThat(recurring).extracting(RecurringInfo::name).containsExactly("every-second", "nightly");
        RecurringInfo everySecond = recurring.get(0);
        assertThat(everySecond.type()).isEqualTo("report");
        assertThat(everySecond.queue()).isEqualTo("reports");
        assertThat(everySecond.schedule()).startsWith("every PT1S");
        assertThat(everySecond.lastTick()).isBetween(now.minusSeconds(3), after.plusSeconds(1));
        assertThat(everySecond.nextTick()).isBetween(now.minusSeconds(1), after.plusSeconds(2));
        RecurringInfo nightly = recurring.get(1);
        assertThat(nightly.schedule()).startsWith("cron \"0 3 * * *\" in Europe/Berlin");
        assertThat(nightly.lastTick()).isNull();
        assertThat(nightly.nextTick()).isEqualTo(Schedule.cron("0 3 * * *", "Europe/Berlin").nextTick(now).orElseThrow());
    }

    @Test
    void unserved_liststhePendingJobsNoLiveWorkerServes() {
        start(Worker.builder(store).workerId("mail-only").queue("mail", 1)
                .handler(TASK, (job, context) -> JobOutcome.done()));
        JdbiJobQueue.create(store).enqueue(TASK, new Task(1)); // into "default", which nobody serves
        JdbiJobQueue.create(store).enqueue(REPORT, new Task(1), EnqueueOptions.defaults().queue("mail")); // no handler

        await().atMost(Duration.ofSeconds(5)).until(() -> registry.unserved(Duration.ZERO, 10).size() == 2);
        assertThat(registry.unserved(Duration.ZERO, 10)).extracting(UnservedJobs::queue, UnservedJobs::type)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("default", "task"),
                        org.assertj.core.groups.Tuple.tuple("mail", "report"));
        assertThat(registry.unserved(Duration.ofMinutes(5), 10)).isEmpty();
    }
}
