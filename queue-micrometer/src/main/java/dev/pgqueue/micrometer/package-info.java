/**
 * Micrometer metrics for pgqueue: {@link dev.pgqueue.micrometer.PgQueueMetrics} (a worker's outcome
 * counters and attempt timers) and {@link dev.pgqueue.micrometer.PgQueueGauges} (every queue's depth
 * and age, sampled from the database); see docs/metrics.md.
 */
package dev.pgqueue.micrometer;
