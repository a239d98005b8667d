package dev.pgqueue.spring;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobStatus;
import dev.pgqueue.PayloadMapper;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Configures pgqueue from the application's {@link DataSource}:
 * <ul>
 *   <li>a {@link JdbiJobStore} over it ({@code pgqueue.schema}, {@code pgqueue.migrate},
 *       {@code pgqueue.notifications}), whose payloads are mapped by the application's Jackson
 *       {@link ObjectMapper} bean when there is one (Spring Boot's, with the modules it registered), else
 *       by {@link PayloadMapper#create PayloadMapper.create()};</li>
 *   <li>a {@link JobQueue}, the {@link TransactionAwareJobQueue}, whose enqueues join Spring's
 *       transactions;</li>
 *   <li>a {@link JobAdmin}, the {@link JdbiJobAdmin} over the store;</li>
 *   <li>when at least one {@link JobHandlerRegistration} bean exists and {@code pgqueue.worker.enabled}
 *       is not false: a {@link Worker} serving them ({@code pgqueue.worker.*}, then every
 *       {@link WorkerCustomizer}), started and stopped by a {@link WorkerLifecycle}.</li>
 * </ul>
 * Each bean backs off when the application defines its own of that type. Runs after Spring Boot's
 * data source and Jackson auto-configurations (named, not referenced, so that it loads on Spring Boot
 * 3 and 4 alike).
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration",
        "org.springframework.boot.jackson2.autoconfigure.Jackson2AutoConfiguration"})
@ConditionalOnClass(JdbiJobStore.class)
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(PgQueueProperties.class)
public class PgQueueAutoConfiguration {

    /** The property that bounds each lifecycle phase's shutdown: {@value}. */
    public static final String SHUTDOWN_PHASE_PROPERTY = "spring.lifecycle.timeout-per-shutdown-phase";

    /** Spring Boot's default for {@value #SHUTDOWN_PHASE_PROPERTY}: 30 s. */
    public static final Duration DEFAULT_SHUTDOWN_PHASE = Duration.ofSeconds(30);

    /**
     * Time the shutdown phase keeps beyond the worker's shutdown timeout and close margin: 1 s, so that
     * the worker has closed before Spring stops waiting for it and closes the data source.
     */
    public static final Duration SHUTDOWN_HEADROOM = Duration.ofSeconds(1);

    /** Creates the configuration; Spring Boot does. */
    public PgQueueAutoConfiguration() {
    }

    /**
     * The store, migrated on start unless {@code pgqueue.migrate=false}. Created after the
     * application's database initializers (Flyway, Liquibase, {@code spring.sql.init}), so that with
     * {@code pgqueue.migrate=false} it checks a schema they have already migrated.
     *
     * @param dataSource the application's data source
     * @param properties the {@code pgqueue.*} properties
     * @param objectMapper the application's Jackson mapper, if it has exactly one
     * @return the store
     */
    @Bean
    @ConditionalOnMissingBean
    @DependsOnDatabaseInitialization
    public JdbiJobStore pgqueueJobStore(DataSource dataSource, PgQueueProperties properties,
            ObjectProvider<ObjectMapper> objectMapper) {
        JdbiJobStore.Builder builder = JdbiJobStore.builder(Jdbi.create(dataSource));
        apply("schema", properties.getSchema(), () -> builder.schema(properties.getSchema()));
        return builder.migrate(properties.isMigrate())
                .notifications(properties.isNotifications())
                .objectMapper(objectMapper.getIfUnique(PayloadMapper::create))
                .build();
    }

    /**
     * The queue, joining Spring's transactions on the application's data source.
     *
     * @param store the store to enqueue into
     * @param dataSource the data source whose transactions enqueues join; the store's
     * @return the queue
     */
    @Bean
    @ConditionalOnMissingBean(JobQueue.class)
    public TransactionAwareJobQueue pgqueueJobQueue(JdbiJobStore store, DataSource dataSource) {
        return new TransactionAwareJobQueue(JdbiJobQueue.create(store), dataSource);
    }

    /**
     * The admin API over the store (find, retry, cancel, pause, stats): what the dashboard and the
     * application's own operations pages use.
     *
     * @param store the store whose schema it administers
     * @return the admin API
     */
    @Bean
    @ConditionalOnMissingBean(JobAdmin.class)
    public JdbiJobAdmin pgqueueJobAdmin(JdbiJobStore store) {
        return JdbiJobAdmin.create(store);
    }

    /**
     * The worker and its lifecycle, when the application declares handlers and has not turned the
     * worker off nor defined a worker of its own.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBean(JobHandlerRegistration.class)
    @ConditionalOnMissingBean(Worker.class)
    @ConditionalOnProperty(prefix = "pgqueue.worker", name = "enabled", matchIfMissing = true)
    public static class WorkerConfiguration {

        /** Creates the configuration; Spring Boot does. */
        public WorkerConfiguration() {
        }

        /**
         * The worker, built but not started ({@link WorkerLifecycle} starts it).
         *
         * @param store the store to claim from
         * @param properties the {@code pgqueue.*} properties
         * @param handlers every handler registration bean
         * @param customizers every worker customizer bean, applied in order
         * @param environment where {@value #SHUTDOWN_PHASE_PROPERTY} is read from
         * @return the worker
         */
        @Bean
        public Worker pgqueueWorker(JdbiJobStore store, PgQueueProperties properties,
                ObjectProvider<JobHandlerRegistration<?>> handlers, ObjectProvider<WorkerCustomizer> customizers,
                Environment environment) {
            PgQueueProperties.WorkerProperties options = properties.getWorker();
            Worker.Builder builder = Worker.builder(store);
            handlers.orderedStream().forEach(registration -> registration.registerWith(builder));
            for (Map.Entry<String, Integer> queue : options.getQueues().entrySet()) {
                apply("worker.queues." + queue.getKey(), queue.getValue(),
                        () -> builder.queue(queue.getKey(), queue.getValue()));
            }
            if (options.getLeaseDuration() != null) {
                apply("worker.lease-duration", options.getLeaseDuration(),
                        () -> builder.leaseDuration(options.getLeaseDuration()));
            }
            if (options.getHeartbeatInterval() != null) {
                apply("worker.heartbeat-interval", options.getHeartbeatInterval(),
                        () -> builder.heartbeatInterval(options.getHeartbeatInterval()));
            }
            if (options.getPollInterval() != null) {
                apply("worker.poll-interval", options.getPollInterval(),
                        () -> builder.pollInterval(options.getPollInterval()));
            }
            if (options.getBatchSize() != null) {
                apply("worker.batch-size", options.getBatchSize(), () -> builder.batchSize(options.getBatchSize()));
            }
            for (Map.Entry<JobStatus, Duration> retention : options.getRetention().entrySet()) {
                apply("worker.retention." + retention.getKey().name().toLowerCase(Locale.ROOT), retention.getValue(),
                        () -> builder.retention(retention.getKey(), retention.getValue()));
            }
            if (options.getWorkerId() != null) {
                apply("worker.worker-id", options.getWorkerId(), () -> builder.workerId(options.getWorkerId()));
            }
            Duration phase = Binder.get(environment).bind(SHUTDOWN_PHASE_PROPERTY, Duration.class)
                    .orElse(DEFAULT_SHUTDOWN_PHASE);
            builder.shutdownTimeout(shutdownTimeout(options.getShutdownTimeout(), phase));
            customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
            return builder.build();
        }

        /**
         * Starts the worker after the context is refreshed and stops it gracefully on shutdown.
         *
         * @param pgqueueWorker the worker
         * @return its lifecycle
         */
        @Bean
        public WorkerLifecycle pgqueueWorkerLifecycle(Worker pgqueueWorker) {
            return new WorkerLifecycle(pgqueueWorker);
        }
    }

    /**
     * The worker's shutdown timeout: the configured one, which must fit in the shutdown phase with the
     * close margin and headroom to spare; else the worker's default, cut to fit.
     */
    static Duration shutdownTimeout(Duration configured, Duration phase) {
        Duration budget = phase.minus(SHUTDOWN_HEADROOM).minusMillis(Worker.CLOSE_MARGIN_MILLIS);
        String property = PgQueueProperties.PREFIX + ".worker.shutdown-timeout";
        if (configured == null) {
            if (budget.isNegative()) {
                throw new InvalidConfigurationPropertyValueException(SHUTDOWN_PHASE_PROPERTY, phase,
                        "expected " + SHUTDOWN_PHASE_PROPERTY + " to be at least " + phase.minus(budget)
                                + " so that the pgqueue worker can close within it, got: " + phase);
            }
            return budget.compareTo(Worker.DEFAULT_SHUTDOWN_TIMEOUT) < 0 ? budget : Worker.DEFAULT_SHUTDOWN_TIMEOUT;
        }
        if (configured.compareTo(budget) > 0) {
            throw new InvalidConfigurationPropertyValueException(property, configured,
                    "expected " + property + " to be at most " + budget + " (" + SHUTDOWN_PHASE_PROPERTY + ", " + phase
                            + ", less the worker's close margin of " + Worker.CLOSE_MARGIN_MILLIS + " ms and "
                            + SHUTDOWN_HEADROOM + " of headroom), got: " + configured);
        }
        return configured;
    }

    /** Runs a builder setter, reporting its validation failure as a bad {@code pgqueue.<name>}. */
    private static void apply(String name, Object value, Runnable setter) {
        try {
            setter.run();
        } catch (ValidationException e) {
            throw new InvalidConfigurationPropertyValueException(PgQueueProperties.PREFIX + "." + name, value,
                    e.getMessage());
        }
    }
}
