package dev.pgqueue.bench;

/**
 * The payload of W5's and W5R's jobs, {@code {"ts": ..., "fail": ...}}: the producer's
 * {@link System#nanoTime()} right before the enqueue call ({@link Stamp#NONE} in W5, which measures
 * no latency), and whether the job's first attempt throws after its insert (every tenth job).
 */
public record Work(long ts, boolean fail) {

    /** The busy spin every attempt runs first: the job's "real work". */
    static final long SPIN_NANOS = 1_000_000L;
    /** Every {@code FAIL_EVERY}th job fails its first attempt. */
    static final int FAIL_EVERY = 10;

    /** The {@code i}th job of a run (from 0), stamped {@code ts}. */
    static Work nth(long i, long ts) {
        return new Work(ts, i % FAIL_EVERY == FAIL_EVERY - 1);
    }

    /** Whether this attempt ({@code 1} for the first) throws after its insert. */
    boolean failsOn(int attempt) {
        return fail && attempt == 1;
    }

    /** The same payload as JSON, for the raw reference's statements. */
    String json() {
        return "{\"ts\": " + ts + ", \"fail\": " + fail + "}";
    }

    /** Reads {@code payload::text} back (PostgreSQL prints {@code {"ts": 123, "fail": false}}). */
    static Work parse(String json) {
        int start = json.indexOf("\"ts\":") + 5;
        int end = start;
        while (end < json.length() && json.charAt(end) != ',' && json.charAt(end) != '}') {
            end++;
        }
        return new Work(Long.parseLong(json.substring(start, end).trim()), json.contains("\"fail\": true"));
    }

    /** Burns {@link #SPIN_NANOS} of CPU on this thread: a busy spin on the wall clock. */
    static void spin() {
        long until = System.nanoTime() + SPIN_NANOS;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    /** What a job throws on its planned failed first attempt (with a stack trace, as any exception a handler throws). */
    static final class PlannedFailure extends RuntimeException {
        PlannedFailure() {
            super("planned failure of a first attempt (W5)");
        }
    }
}
