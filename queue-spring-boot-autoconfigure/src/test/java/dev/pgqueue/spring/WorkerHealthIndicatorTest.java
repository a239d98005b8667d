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
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code pgqueue} health indicator on Spring Boot 3's actuator. */
@ExtendWith(PostgresExtension.class)
class WorkerHealthIndicatorTest {

    static final JobType<String> NOOP = JobType.of("noop", String.class);

    static TestDatabase db;
    ApplicationContextRunner runner;

    @BeforeAll
    static void database(TestDatabase database) {
        db = database;
    }

    @BeforeEach
    void setUp() {
        runner = new ApplicationContextRunner()
                .withUserConfiguration(TestApp.class)
                .withPropertyValues(TestDatabases.properties(db));
    }

    @Configuration(proxyBeanMethods = false)
    static class Handlers {
        @Bean
        JobHandlerRegistration<String> noop() {
            return JobHandlerRegistration.of(NOOP, (job, context) -> JobOutcome.done());
        }
    }

    @Test
    void up_whileTheWorkerRuns_downOnceItStops() {
        runner.withUserConfiguration(Handlers.class).run(context -> {
            HealthIndicator indicator = context.getBean("pgqueueHealthIndicator", HealthIndicator.class);
            Health up = indicator.health();
            assertThat(up.getStatus()).isEqualTo(Status.UP);
            // UP or DEGRADED by pgqueue's reading: the LISTEN connection may still be opening, and on a
            // shared test server another session's long transaction may hold back vacuum.
            assertThat(up.getDetails().get("state")).isIn("UP", "DEGRADED");
            assertThat(up.getDetails()).containsEntry("databaseReachable", true)
                    .containsEntry("workerId", context.getBean(Worker.class).workerId())
                    .containsEntry("runningJobs", 0).containsKeys("reasons", "listening", "jobsPastTimeout");
            context.getBean(WorkerLifecycle.class).stop();
            Health down = indicator.health();
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(down.getDetails()).containsEntry("state", "DOWN");
        });
    }

    @Test
    void degraded_isUpWithTheReasons_whenJobsWaitThatNoWorkerServes() {
        runner.withUserConfiguration(Handlers.class)
                .withPropertyValues("pgqueue.worker.queues.mail=1")
                .withBean(WorkerCustomizer.class, () -> builder -> builder.unservedAfter(Duration.ofMillis(500))
                        .tableHealthInterval(Duration.ofMillis(200)))
                .run(context -> {
                    context.getBean(JobQueue.class).enqueue(NOOP, "left in default");
                    HealthIndicator indicator = context.getBean("pgqueueHealthIndicator", HealthIndicator.class);
                    await().atMost(Duration.ofSeconds(10)).until(() -> unservedReason(indicator.health()) != null);
                    Health health = indicator.health();
                    assertThat(health.getStatus()).isEqualTo(Status.UP);
                    assertThat(health.getDetails()).containsEntry("state", "DEGRADED");
                    assertThat(unservedReason(health)).endsWith("and no live worker serves them");
                });
    }

    /** The reason that names the unserved noop jobs, if the health gives it. */
    private static String unservedReason(Health health) {
        Object reasons = health.getDetails().get("reasons");
        if (!(reasons instanceof List<?> list)) {
            return null;
        }
        return list.stream().map(String::valueOf).filter(r -> r.contains("jobs of type noop in queue default"))
                .findFirst().orElse(null);
    }

    @Test
    void absent_withoutAWorker_orWhenDisabled() {
        runner.run(context -> assertThat(context).doesNotHaveBean("pgqueueHealthIndicator"));
        runner.withUserConfiguration(Handlers.class).withPropertyValues("management.health.pgqueue.enabled=false")
                .run(context -> assertThat(context).hasSingleBean(Worker.class)
                        .doesNotHaveBean("pgqueueHealthIndicator"));
    }

    @Test
    void reportedByTheActuator() {
        runner.withUserConfiguration(Handlers.class).run(context -> {
            HealthEndpoint endpoint = context.getBean(HealthEndpoint.class);
            assertThat(endpoint.healthForPath("pgqueue").getStatus()).isEqualTo(Status.UP);
        });
    }
}
