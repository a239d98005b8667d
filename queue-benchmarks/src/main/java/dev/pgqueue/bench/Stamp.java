package dev.pgqueue.bench;

/**
 * The payload of every benchmark job, {@code {"ts": ...}}: the producer's {@link System#nanoTime()}
 * taken right before the enqueue call, or {@link #NONE} where no latency is measured.
 */
public record Stamp(long ts) {

    /** No timestamp: the job only counts. */
    public static final long NONE = Long.MIN_VALUE;

    /** The same payload as JSON, for the raw ceiling's statements. */
    String json() {
        return "{\"ts\": " + ts + "}";
    }

    /** Reads {@code ts} back from {@code payload::text} (PostgreSQL prints {@code {"ts": 123}}). */
    static long parse(String json) {
        int start = json.indexOf(':') + 1;
        int end = json.indexOf('}', start);
        return Long.parseLong(json.substring(start, end).trim());
    }
}
