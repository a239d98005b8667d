package dev.pgqueue.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobType;
import dev.pgqueue.micrometer.PgQueueGauges;
import dev.pgqueue.micrometer.PgQueueMetrics;
import dev.pgqueue.testing.postgres.PostgresExtension;
import dev.pgqueue.testing.postgres.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** queue-micrometer wired by the starter into the application's MeterRegistry. */
@ExtendWith(PostgresExtension.class)
class PgQueueMetricsAutoConfigurationTest {

    static final JobType<String> NOTE = JobType.of("metrics-note", String.class);

    static TestDatabase db;
    ApplicationContextRunner runner;

    @BeforeAll
    static void database(TestDatabase database) {
        db = database;
    }

    @BeforeEach
    void setUp() {
        runner = new ApplicationContextRunner()
                .withUserConfiguration(TestApp.class, Handlers.class)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues(TestDatabases.properties(db));
    }

    @Configuration(proxyBeanMethods = false)
    static class Handlers {
        @Bean
        JobHandlerRegistration<String> note() {
            return JobHandlerRegistration.of(NOTE, (job, context) -> JobOutcome.done());
        }
    }

    @Test
    void theWorkersJobsAreCountedAndTimed_inTheApplicationsRegistry() {
        runner.run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            context.getBean(JobQueue.class).enqueue(NOTE, "hello");

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(registry.find(PgQueueMetrics.JOBS_COMPLETED)
                    .tag(PgQueueMetrics.TAG_QUEUE, "default").counter()).isNotNull()
                    .satisfies(counter -> assertThat(counter.count()).isEqualTo(1.0)));
            assertThat(context).doesNotHaveBean(PgQueueGauges.class);
        });
    }

    @Test
    void queueGauges_whenAskedFor_sampleTheAdminApi() {
        runner.withPropertyValues("pgqueue.metrics.queue-gauges=true", "pgqueue.metrics.queue-gauges-interval=200ms")
                .run(context -> {
                    assertThat(context).hasSingleBean(PgQueueGauges.class);
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    context.getBean(JobQueue.class).enqueue(NOTE, "counted");
                    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                            assertThat(registry.find(PgQueueGauges.QUEUE_DEPTH).tag(PgQueueGauges.TAG_QUEUE, "default").gauges())
                                    .isNotEmpty());
                });
    }

    @Test
    void metricsOff_addsNothing() {
        runner.withPropertyValues("pgqueue.metrics.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean("pgqueueMetricsCustomizer");
            assertThat(context).doesNotHaveBean(PgQueueGauges.class);
        });
    }
}
