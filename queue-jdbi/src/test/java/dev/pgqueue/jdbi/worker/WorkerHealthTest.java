package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Health;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * {@code Worker.health()} as a probe reads it: UP while working; DOWN before start, after close and
 * during a database outage (every connection of the worker's pool cut, new ones refused), UP again
 * once the database is back, while {@code isRunning()} stays true throughout; DEGRADED with a reason
 * for jobs running past their timeout and for pending jobs no live worker serves.
 */
class WorkerHealthTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    WorkerHealthTest(TestDatabase db) {
        super(db);
    }

    @Test
    void health_isDownDuringADatabaseOutage_andUpAgainAfterIt() throws Exception {
        Matcher hostPort = Pattern.compile("//([^:/]+):(\\d+)/").matcher(db.jdbcUrl());
        assertThat(hostPort.find()).as("host and port in %s", db.jdbcUrl()).isTrue();
        try (CuttableProxy proxy = new CuttableProxy(hostPort.group(1), Integer.parseInt(hostPort.group(2)))) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(proxy.proxied(db.jdbcUrl()));
            config.setMaximumPoolSize(8);
            // HikariCP's default connection timeout (30 s): during the outage a borrower waits that long
            // before it fails, so it is the unanswered once-a-second read that makes health DOWN.
            config.setPoolName("health-outage");
            try (HikariDataSource pool = new HikariDataSource(config)) {
                JdbiJobStore proxied = JdbiJobStore.builder(Jdbi.create(pool)).schema(db.schema()).build();
                Worker w = start(Worker.builder(proxied).handler(TASK, (job, context) -> JobOutcome.done()));
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        w.health().status() == Health.Status.UP && w.health().lastClaim() != null && w.health().listening());
                Health up = w.health();
                assertThat(up.reasons()).isEmpty();
                assertThat(up.databaseReachable()).isTrue();
                assertThat(up.listening()).isTrue();
                assertThat(up.lastClaim()).isNotNull();

                proxy.cut();
                long cutAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(10)).until(() -> w.health().status() == Health.Status.DOWN);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
                Health down = w.health();
                assertThat(down.databaseReachable()).isFalse();
                assertThat(down.reasons()).anySatisfy(r -> assertThat(r).matches(
                        "the database (is unreachable: .*|has not answered for \\d+ s)"));
                assertThat(w.isRunning()).as("the worker keeps running and retrying").isTrue();
                System.err.println("health DOWN " + millis + " ms after the cut");

                proxy.restore();
                await().atMost(Duration.ofSeconds(30)).until(() -> w.health().status() == Health.Status.UP);
                assertThat(w.health().databaseReachable()).isTrue();
                await().atMost(Duration.ofSeconds(30)).until(() -> w.health().listening());
            }
        }
    }

    @Test
    void health_isDownBeforeStartAndAfterClose() {
        Worker w = Worker.builder(store).handler(TASK, (job, context) -> JobOutcome.done()).build();
        assertThat(w.health().status()).isEqualTo(Health.Status.DOWN);
        assertThat(w.health().reasons()).containsExactly("the worker is not started");

        w.start();
        w.close();

        assertThat(w.health().status()).isEqualTo(Health.Status.DOWN);
        assertThat(w.health().reasons()).containsExactly("the worker is closed");
    }

    @Test
    void health_isDegraded_whileAHandlerRunsPastItsTimeout() {
        JobType<Task> slow = JobType.of("slow", Task.class).withTimeout(Duration.ofMillis(200));
        Worker w = start(Worker.builder(store).handler(slow, (job, context) -> {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3_000);
            while (System.nanoTime() < until) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ignored) {
                    // ignores its interrupt, as a stuck handler does
                }
            }
            return JobOutcome.done();
        }));
        queue.enqueue(slow, new Task(1));

        await().atMost(Duration.ofSeconds(5)).until(() -> w.health().jobsPastTimeout() == 1);
        Health health = w.health();
        assertThat(health.status()).isEqualTo(Health.Status.DEGRADED);
        assertThat(health.reasons()).containsExactly(
                "1 jobs have run longer than their job type's timeout (their handlers ignore the interrupt)");
    }

    @Test
    void health_isDegraded_whenPendingJobsWaitWithNoLiveWorkerServingThem() {
        Worker w = start(Worker.builder(store)
                .queue("mail", 2) // not "default", where the job goes
                .unservedAfter(Duration.ofMillis(500))
                .tableHealthInterval(Duration.ofMillis(200))
                .handler(TASK, (job, context) -> JobOutcome.done()));
        queue.enqueue(TASK, new Task(1), EnqueueOptions.defaults());

        await().atMost(Duration.ofSeconds(10)).until(() -> w.health().status() == Health.Status.DEGRADED);
        assertThat(w.health().reasons()).singleElement().asString()
                .startsWith("1 jobs of type task in queue default have been due for more than PT0.5S")
                .endsWith("and no live worker serves them");

        db.execute("DELETE FROM job_queue");
        await().atMost(Duration.ofSeconds(10)).until(() -> w.health().status() == Health.Status.UP);
    }
}
