package dev.pgqueue.spring;

import dev.pgqueue.Worker;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@code pgqueue} health indicator ({@link WorkerHealthIndicator}), when the application has Spring
 * Boot 3's actuator and a worker; {@code management.health.pgqueue.enabled=false} turns it off.
 */
@AutoConfiguration(after = PgQueueAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
@ConditionalOnBean(Worker.class)
@ConditionalOnEnabledHealthIndicator("pgqueue")
public class PgQueueHealthAutoConfiguration {

    /** Creates the configuration; Spring Boot does. */
    public PgQueueHealthAutoConfiguration() {
    }

    /**
     * The indicator, named {@code pgqueue} in the actuator's health report.
     *
     * @param worker the worker to report on
     * @return the indicator
     */
    @Bean
    @ConditionalOnMissingBean(name = "pgqueueHealthIndicator")
    public WorkerHealthIndicator pgqueueHealthIndicator(Worker worker) {
        return new WorkerHealthIndicator(worker);
    }
}
