package dev.pgqueue.spring;

import dev.pgqueue.Worker;

/**
 * Sets worker options that have no {@code pgqueue.worker.*} property: a {@link dev.pgqueue.WorkerListener},
 * a retry policy, recurring jobs, limits. Every bean of this type is applied, in
 * {@link org.springframework.core.annotation.Order} order, to the auto-configured worker's builder after
 * the properties and the handlers, just before it is built.
 *
 * <pre>{@code
 * @Bean
 * WorkerCustomizer nightlyReport() {
 *     return builder -> builder.recurring("nightly-report", Jobs.REPORT, new Report(), Schedule.cron("0 3 * * *"));
 * }
 * }</pre>
 *
 * A customizer must not call {@link Worker.Builder#build()}; the shutdown timeout set by a customizer
 * is not checked against Spring's shutdown phase, so set it with {@code pgqueue.worker.shutdown-timeout}.
 */
@FunctionalInterface
public interface WorkerCustomizer {

    /**
     * Adjusts the worker's options.
     *
     * @param builder the builder of the worker the auto-configuration is about to build
     */
    void customize(Worker.Builder builder);
}
