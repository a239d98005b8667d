/**
 * Spring Boot auto-configuration for pgqueue: from the application's {@code DataSource} it builds the
 * store ({@link dev.pgqueue.jdbi.JdbiJobStore}), a {@link dev.pgqueue.JobQueue} whose enqueues join
 * Spring's transactions ({@link dev.pgqueue.spring.TransactionAwareJobQueue}) and, when handlers are
 * declared as {@link dev.pgqueue.spring.JobHandlerRegistration} beans, a {@link dev.pgqueue.Worker}
 * that starts and stops with the application context ({@link dev.pgqueue.spring.WorkerLifecycle}).
 * Properties live under {@code pgqueue.*} ({@link dev.pgqueue.spring.PgQueueProperties}); the user
 * guide is docs/spring-boot.md.
 */
package dev.pgqueue.spring;
