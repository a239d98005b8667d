package dev.pgqueue.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresExtension;
import dev.pgqueue.testing.postgres.TestDatabase;
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
            assertThat(up.getDetails()).containsEntry("workerId", context.getBean(Worker.class).workerId())
                    .containsEntry("runningJobs", 0);
            context.getBean(WorkerLifecycle.class).stop();
            assertThat(indicator.health().getStatus()).isEqualTo(Status.DOWN);
        });
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
