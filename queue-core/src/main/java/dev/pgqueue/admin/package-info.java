/**
 * Operating a queue on day two: {@link dev.pgqueue.admin.JobAdmin} finds, counts, retries, cancels,
 * deletes and re-prioritises jobs, groups failures, reports queue statistics, pauses and resumes
 * queues, and lists live workers and recurring schedules. A storage module implements it (queue-jdbi's
 * {@code JdbiJobAdmin}); the dashboard, the CLI and the Spring Boot starter are built on it.
 */
package dev.pgqueue.admin;
