package dev.pgqueue.bench;

/** One measured value, named as in the CSV ({@code drain_jobs_per_s}, {@code latency_p95_ms}, ...). */
record Metric(String name, double value) {}
