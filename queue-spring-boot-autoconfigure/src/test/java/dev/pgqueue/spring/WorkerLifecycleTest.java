package dev.pgqueue.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresExtension;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The worker starts once the context is refreshed and stops within Spring's shutdown phase timeout
 * ({@code spring.lifecycle.timeout-per-shutdown-phase}, 4 s here), handing back what it cannot finish.
 */
@ExtendWith(PostgresExtension.class)
class WorkerLifecycleTest {

    static final JobType<String> SLOW = JobType.of("slow", String.class);
    static final Duration PHASE = Duration.ofSeconds(4);
    /**
     * Added to upper bounds of wall time: a loaded CI machine stalls threads for a second or two. A worker
     * that waited for the endless job, or used the default 30 s shutdown timeout, still fails them.
     */
    static final Duration MACHINE_ALLOWANCE = Duration.ofSeconds(2);

    /** How long the handler works, per payload. */
    static final Map<String, Duration> WORK = Map.of("short", Duration.ofMillis(1_500), "endless", Duration.ofMinutes(5));

    static volatile CountDownLatch started;
    static final AtomicReference<String> finished = new AtomicReference<>();
    static final AtomicBoolean runningWhenSingletonsWereReady = new AtomicBoolean(true);

    @Configuration(proxyBeanMethods = false)
    static class Slow {
        @Bean
        JobHandlerRegistration<String> slow() {
            return JobHandlerRegistration.of(SLOW, (job, context) -> {
                started.countDown();
                Thread.sleep(WORK.get(job.payload()).toMillis());
                finished.set(job.payload());
                return JobOutcome.done();
            });
        }

        /** Runs once every singleton exists, before lifecycle beans start. */
        @Bean
        SmartInitializingSingleton probe(ObjectProvider<Worker> worker) {
            return () -> runningWhenSingletonsWereReady.set(worker.getObject().isRunning());
        }
    }

    TestDatabase db;

    @BeforeEach
    void setUp(TestDatabase database) {
        db = database;
        started = new CountDownLatch(1);
        finished.set(null);
    }

    private ConfigurableApplicationContext start() {
        return new SpringApplicationBuilder(TestApp.class, Slow.class)
                .web(WebApplicationType.NONE)
                .registerShutdownHook(false)
                .properties(TestDatabases.properties(db))
                .properties("spring.lifecycle.timeout-per-shutdown-phase=" + PHASE.toMillis() + "ms",
                        "pgqueue.worker.poll-interval=200ms")
                .run();
    }

    @Test
    void start_afterEverySingletonIsReady() {
        try (ConfigurableApplicationContext context = start()) {
            assertThat(runningWhenSingletonsWereReady).isFalse();
            assertThat(context.getBean(Worker.class).isRunning()).isTrue();
            assertThat(context.getBean(WorkerLifecycle.class).isRunning()).isTrue();
        }
    }

    @Test
    void close_letsARunningJobFinish() throws Exception {
        ConfigurableApplicationContext context = start();
        UUID job = context.getBean(JobQueue.class).enqueue(SLOW, "short");
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        long begin = System.nanoTime();
        context.close();
        Duration closing = Duration.ofNanos(System.nanoTime() - begin);

        assertThat(finished.get()).isEqualTo("short");
        assertThat(closing).isLessThan(PHASE.plus(MACHINE_ALLOWANCE));
        assertThat(status(job)).isEqualTo("completed");
    }

    @Test
    void close_handsBackAJobThatOutlastsTheShutdownTimeout_withinThePhase() throws Exception {
        ConfigurableApplicationContext context = start();
        UUID job = context.getBean(JobQueue.class).enqueue(SLOW, "endless");
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        long begin = System.nanoTime();
        context.close();
        Duration closing = Duration.ofNanos(System.nanoTime() - begin);

        // The derived shutdown timeout is the phase less 1.5 s: 2.5 s of grace, then the interrupt.
        assertThat(closing).isGreaterThanOrEqualTo(Duration.ofMillis(2_500)).isLessThan(PHASE.plus(MACHINE_ALLOWANCE));
        assertThat(finished.get()).isNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> status(job).equals("pending"));
        // Handed back: the interrupted run is not counted as an attempt.
        assertThat(db.queryForLong("SELECT attempt FROM job_queue WHERE id = ?", job)).isZero();
    }

    private String status(UUID job) {
        return (String) db.queryForList("SELECT status FROM job_queue WHERE id = ?", job).get(0).get("status");
    }
}
