package dev.pgqueue.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresExtension;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@ExtendWith(PostgresExtension.class)
class PgQueueAutoConfigurationTest {

    record Greeting(String name, LocalDate day) {}

    static final JobType<Greeting> GREET = JobType.of("greet", Greeting.class);
    static final JobType<Greeting> MAIL = JobType.of("mail", Greeting.class);

    /** Every greeting the handler ran, in order. */
    static final List<Greeting> greeted = new CopyOnWriteArrayList<>();

    static TestDatabase db;
    ApplicationContextRunner runner;

    @BeforeAll
    static void database(TestDatabase database) {
        db = database;
    }

    @BeforeEach
    void setUp() {
        greeted.clear();
        db.execute("DO $$ BEGIN IF to_regclass('job_queue') IS NOT NULL THEN DELETE FROM job_queue; END IF; END $$");
        runner = new ApplicationContextRunner()
                .withUserConfiguration(TestApp.class)
                .withPropertyValues(TestDatabases.properties(db))
                .withPropertyValues("pgqueue.worker.poll-interval=100ms");
    }

    @Configuration(proxyBeanMethods = false)
    static class Handlers {
        @Bean
        JobHandlerRegistration<Greeting> greet() {
            return JobHandlerRegistration.of(GREET, (job, context) -> {
                greeted.add(job.payload());
                return JobOutcome.done();
            });
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class MailHandler {
        @Bean
        JobHandlerRegistration<Greeting> mail() {
            return JobHandlerRegistration.of(MAIL, (job, context) -> {
                greeted.add(job.payload());
                return JobOutcome.done();
            });
        }
    }

    @Nested
    class Beans {
        @Test
        void storeAndQueue_withoutHandlers_noWorker() {
            runner.run(context -> {
                assertThat(context).hasNotFailed();
                assertThat(context.getBean(JdbiJobStore.class).schema()).isEqualTo(db.schema());
                assertThat(context.getBean(JobQueue.class)).isInstanceOf(TransactionAwareJobQueue.class);
                assertThat(context).doesNotHaveBean(Worker.class).doesNotHaveBean(WorkerLifecycle.class);
                assertThat(context.getBean(JobAdmin.class)).isInstanceOf(JdbiJobAdmin.class);
                // Not a web application, and the property is off by default: no dashboard.
                assertThat(context).doesNotHaveBean("pgqueueDashboard");
            });
        }

        @Test
        void store_usesTheApplicationsObjectMapper() {
            runner.run(context -> {
                ObjectMapper boot = context.getBean(ObjectMapper.class);
                assertThat(context.getBean(JdbiJobStore.class).objectMapper()).isSameAs(boot);
            });
        }

        @Test
        void store_migratesOnStart() {
            String schema = db.schema() + "_new";
            try {
                runner.withPropertyValues("pgqueue.schema=" + schema).run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(db.queryForLong("SELECT count(*) FROM information_schema.tables"
                            + " WHERE table_schema = ? AND table_name = 'job_queue'", schema)).isEqualTo(1);
                });
            } finally {
                db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }

        @Test
        void worker_runsHandlerBeans_withPayloadsMappedByBootsObjectMapper() {
            runner.withUserConfiguration(Handlers.class).run(context -> {
                assertThat(context).hasSingleBean(Worker.class).hasSingleBean(WorkerLifecycle.class);
                assertThat(context.getBean(Worker.class).isRunning()).isTrue();
                Greeting greeting = new Greeting("Ada", LocalDate.of(2026, 12, 6));
                context.getBean(JobQueue.class).enqueue(GREET, greeting);
                await().atMost(Duration.ofSeconds(10)).until(() -> greeted.contains(greeting));
                // The payload went through Boot's mapper: a date as ISO text, not an array of numbers.
                assertThat(db.queryForList("SELECT payload->>'day' AS day FROM job_queue").get(0).get("day"))
                        .isEqualTo("2026-12-06");
            });
        }

        @Test
        void worker_disabledByProperty() {
            runner.withUserConfiguration(Handlers.class).withPropertyValues("pgqueue.worker.enabled=false")
                    .run(context -> {
                        assertThat(context).hasNotFailed().doesNotHaveBean(Worker.class);
                        assertThat(context).hasSingleBean(JobQueue.class);
                    });
        }

        @Test
        void worker_customizersApply() {
            List<String> started = new CopyOnWriteArrayList<>();
            runner.withUserConfiguration(Handlers.class)
                    .withBean(WorkerCustomizer.class, () -> builder -> builder.listener(new WorkerListener() {
                        @Override
                        public void jobStarted(Job<?> job) {
                            started.add(job.type());
                        }
                    }))
                    .run(context -> {
                        context.getBean(JobQueue.class).enqueue(GREET, new Greeting("Grace", null));
                        await().atMost(Duration.ofSeconds(10)).until(() -> started.contains("greet"));
                    });
        }

        @Test
        void worker_twoHandlersForOneType_failsTheStartNamingIt() {
            runner.withUserConfiguration(Handlers.class)
                    .withBean("greetAgain", JobHandlerRegistration.class,
                            () -> JobHandlerRegistration.of(GREET, (job, context) -> JobOutcome.done()))
                    .run(context -> assertThat(context).hasFailed().getFailure()
                            .rootCause().hasMessageContaining("greet (twice)"));
        }
    }

    @Nested
    class Properties {
        @Test
        void queues_servesOnlyTheListedQueues() {
            runner.withUserConfiguration(Handlers.class, MailHandler.class)
                    .withPropertyValues("pgqueue.worker.queues.mail=2", "pgqueue.worker.worker-id=props-test")
                    .run(context -> {
                        assertThat(context.getBean(Worker.class).workerId()).isEqualTo("props-test");
                        JobQueue queue = context.getBean(JobQueue.class);
                        Greeting inMail = new Greeting("mail", null);
                        UUID inDefault = queue.enqueue(GREET, new Greeting("default", null));
                        queue.enqueue(MAIL, inMail, EnqueueOptions.defaults().queue("mail"));
                        await().atMost(Duration.ofSeconds(10)).until(() -> greeted.contains(inMail));
                        Thread.sleep(300); // three polls
                        assertThat(greeted).containsExactly(inMail);
                        assertThat(queue.find(inDefault).orElseThrow().status().name()).isEqualTo("PENDING");
                    });
        }

        @Test
        void badWorkerValue_failsTheStartNamingTheProperty() {
            runner.withUserConfiguration(Handlers.class).withPropertyValues("pgqueue.worker.poll-interval=0s")
                    .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                            .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                            .hasMessageContaining("pgqueue.worker.poll-interval")
                            .hasMessageContaining("expected pollInterval to be > 0, got: PT0S"));
        }

        @Test
        void badSchema_failsTheStartNamingTheProperty() {
            runner.withPropertyValues("pgqueue.schema=Not A Schema")
                    .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                            .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                            .hasMessageContaining("pgqueue.schema"));
        }

        @Test
        void migrateFalse_onASchemaNotMigrated_failsTheStart() {
            String schema = db.schema() + "_bare";
            db.execute("CREATE SCHEMA " + schema);
            try {
                runner.withPropertyValues("pgqueue.schema=" + schema, "pgqueue.migrate=false")
                        .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                                .hasMessageContaining("schema " + schema + " is not ready for this pgqueue")
                                .hasMessageContaining("no job_queue table"));
                assertThat(db.queryForLong("SELECT count(*) FROM information_schema.tables WHERE table_schema = ?",
                        schema)).isZero();
            } finally {
                db.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }

        @Test
        void retention_prunesFinishedJobs() {
            runner.withUserConfiguration(Handlers.class)
                    .withBean(WorkerCustomizer.class, () -> builder -> builder.pruneInterval(Duration.ofMillis(200)))
                    .withPropertyValues("pgqueue.worker.retention.completed=0s")
                    .run(context -> {
                        UUID id = context.getBean(JobQueue.class).enqueue(GREET, new Greeting("gone", null));
                        await().atMost(Duration.ofSeconds(10))
                                .until(() -> db.queryForLong("SELECT count(*) FROM job_queue WHERE id = ?", id) == 0);
                        assertThat(greeted).extracting(Greeting::name).containsExactly("gone");
                    });
        }

        @Test
        void badRetentionStatus_failsTheStartNamingTheProperty() {
            runner.withUserConfiguration(Handlers.class).withPropertyValues("pgqueue.worker.retention.pending=1d")
                    .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                            .hasMessageContaining("pgqueue.worker.retention.pending")
                            .hasMessageContaining("completed, failed or cancelled"));
        }
    }

    @Nested
    class ShutdownTimeout {
        @Test
        void unset_isTheWorkerDefault_whenThePhaseHasRoomForIt() {
            assertThat(PgQueueAutoConfiguration.shutdownTimeout(null, Duration.ofMinutes(2)))
                    .isEqualTo(Worker.DEFAULT_SHUTDOWN_TIMEOUT);
            // Spring Boot's default phase, 30 s, has room for the worker's default.
            assertThat(PgQueueAutoConfiguration.shutdownTimeout(null, PgQueueAutoConfiguration.DEFAULT_SHUTDOWN_PHASE))
                    .isEqualTo(Worker.DEFAULT_SHUTDOWN_TIMEOUT);
        }

        @Test
        void unset_isCutToFitThePhase() {
            assertThat(PgQueueAutoConfiguration.shutdownTimeout(null, Duration.ofSeconds(20)))
                    .isEqualTo(Duration.ofMillis(18_500));
            assertThat(PgQueueAutoConfiguration.shutdownTimeout(null, Duration.ofSeconds(4)))
                    .isEqualTo(Duration.ofMillis(2_500));
        }

        @Test
        void set_withinThePhase_isKept() {
            assertThat(PgQueueAutoConfiguration.shutdownTimeout(Duration.ofSeconds(10), Duration.ofSeconds(30)))
                    .isEqualTo(Duration.ofSeconds(10));
        }

        @Test
        void set_beyondThePhase_isRefused() {
            assertThatThrownBy(() -> PgQueueAutoConfiguration.shutdownTimeout(Duration.ofSeconds(29), Duration.ofSeconds(30)))
                    .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                    .hasMessageContaining("expected pgqueue.worker.shutdown-timeout to be at most PT28.5S")
                    .hasMessageContaining("got: PT29S");
        }

        @Test
        void phaseTooShort_isRefused() {
            assertThatThrownBy(() -> PgQueueAutoConfiguration.shutdownTimeout(null, Duration.ofSeconds(1)))
                    .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                    .hasMessageContaining("expected spring.lifecycle.timeout-per-shutdown-phase to be at least PT1.5S");
        }

        @Test
        void setBeyondThePhase_failsTheStart() {
            runner.withUserConfiguration(Handlers.class)
                    .withPropertyValues("spring.lifecycle.timeout-per-shutdown-phase=10s",
                            "pgqueue.worker.shutdown-timeout=20s")
                    .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                            .hasMessageContaining("pgqueue.worker.shutdown-timeout"));
        }
    }
}
