/**
 * pgqueue's API: declare a {@link dev.pgqueue.JobType}, enqueue jobs of it with a
 * {@link dev.pgqueue.JobQueue} (with {@link dev.pgqueue.EnqueueOptions}), and run them with a
 * {@link dev.pgqueue.Worker} that calls your {@link dev.pgqueue.JobHandler} and records the
 * {@link dev.pgqueue.JobOutcome} it returns. Retries follow a {@link dev.pgqueue.RetryPolicy};
 * recurring jobs a {@link dev.pgqueue.Schedule}. Every failure is a
 * {@link dev.pgqueue.PgQueueException}. Storage is pluggable through {@link dev.pgqueue.spi}; the
 * {@code queue-jdbi} module provides the PostgreSQL store.
 */
package dev.pgqueue;
