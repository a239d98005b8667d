package dev.pgqueue.spring;

import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.micrometer.PgQueueGauges;
import dev.pgqueue.micrometer.PgQueueMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * pgqueue's Micrometer metrics ({@code queue-micrometer}) in the application's {@link MeterRegistry},
 * when both are on the class path and a registry bean exists (Spring Boot's actuator makes one): the
 * worker's counters and timers through a {@link WorkerCustomizer}, and, with
 * {@code pgqueue.metrics.queue-gauges=true}, the queue gauges sampled from the {@link JobAdmin} bean
 * every {@code pgqueue.metrics.queue-gauges-interval} (15 s by default). The gauges are off by default
 * because each sample is a statistics query over the job table: turn them on in one process of the
 * cluster, as docs/metrics.md explains. {@code pgqueue.metrics.enabled=false} turns everything off.
 */
@AutoConfiguration(afterName = {"org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration"})
@ConditionalOnClass({PgQueueMetrics.class, MeterRegistry.class})
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnProperty(prefix = "pgqueue.metrics", name = "enabled", matchIfMissing = true)
public class PgQueueMetricsAutoConfiguration {

    /** Creates the configuration; Spring Boot does. */
    public PgQueueMetricsAutoConfiguration() {
    }

    /**
     * The worker's counters and timers, added to the auto-configured worker.
     *
     * @param registry the application's registry
     * @return the customizer that adds them
     */
    @Bean
    @ConditionalOnMissingBean(name = "pgqueueMetricsCustomizer")
    public WorkerCustomizer pgqueueMetricsCustomizer(MeterRegistry registry) {
        PgQueueMetrics metrics = new PgQueueMetrics(registry);
        return builder -> builder.listener(metrics).interceptor(metrics);
    }

    /**
     * The queue gauges, sampled from the admin API; started with the context and closed with it.
     *
     * @param admin       the admin API over the store
     * @param registry    the application's registry
     * @param properties  for {@code pgqueue.metrics.queue-gauges-interval}
     * @return the running sampler
     */
    @Bean(initMethod = "start", destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = "pgqueue.metrics", name = "queue-gauges", havingValue = "true")
    public PgQueueGauges pgqueueGauges(JobAdmin admin, MeterRegistry registry, PgQueueProperties properties) {
        return PgQueueGauges.builder(admin, registry).interval(properties.getMetrics().getQueueGaugesInterval()).build();
    }
}
