/**
 * OpenTelemetry tracing for pgqueue: {@link dev.pgqueue.opentelemetry.PgQueueTracing}, which records
 * the enqueuing span's W3C trace context with each job and runs each attempt in a span linked to it
 * (see docs/tracing.md).
 */
package dev.pgqueue.opentelemetry;
