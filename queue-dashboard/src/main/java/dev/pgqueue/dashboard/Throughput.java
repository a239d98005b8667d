package dev.pgqueue.dashboard;

import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.JobFilter;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Jobs completed and failed per queue in each 5-minute bucket of the last hour, from
 * {@link JobAdmin#count} with a finish-time range (which the finished-jobs index serves). A closed
 * bucket does not change, so it is counted once and remembered; each refresh counts only the open one.
 */
final class Throughput {

    static final int BUCKETS = 12;
    static final Duration BUCKET = Duration.ofMinutes(5);

    /** Counts of one queue, oldest bucket first; the last is the open one. */
    record Series(long[] completed, long[] failed, Instant start) {
        long max() {
            long m = 0;
            for (int i = 0; i < BUCKETS; i++) {
                m = Math.max(m, completed[i] + failed[i]);
            }
            return m;
        }
    }

    private record Key(String queue, JobStatus status, long bucket) {}

    private final JobAdmin admin;
    private final Map<Key, Long> closed = new ConcurrentHashMap<>();

    Throughput(JobAdmin admin) {
        this.admin = admin;
    }

    Series series(String queue, Instant now) {
        long size = BUCKET.toMillis();
        long open = now.toEpochMilli() / size;
        long first = open - BUCKETS + 1;
        closed.keySet().removeIf(k -> k.bucket() < first);
        long[] completed = new long[BUCKETS];
        long[] failed = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            long bucket = first + i;
            completed[i] = count(queue, JobStatus.COMPLETED, bucket, bucket == open);
            failed[i] = count(queue, JobStatus.FAILED, bucket, bucket == open);
        }
        return new Series(completed, failed, Instant.ofEpochMilli(first * size));
    }

    private long count(String queue, JobStatus status, long bucket, boolean open) {
        if (open) {
            return countNow(queue, status, bucket);
        }
        return closed.computeIfAbsent(new Key(queue, status, bucket), k -> countNow(queue, status, bucket));
    }

    private long countNow(String queue, JobStatus status, long bucket) {
        long size = BUCKET.toMillis();
        return admin.count(JobFilter.builder().queues(queue).statuses(status)
                .finished(Instant.ofEpochMilli(bucket * size), Instant.ofEpochMilli((bucket + 1) * size)).build());
    }

    /** An inline SVG bar chart: completed (green) and failed (red) stacked per bucket. */
    static void svg(Html h, Series s) {
        int w = 8;
        int gap = 2;
        int height = 32;
        long max = Math.max(1, s.max());
        h.raw("<svg class=\"chart\" width=\"" + (BUCKETS * (w + gap)) + "\" height=\"" + height
                + "\" viewBox=\"0 0 " + (BUCKETS * (w + gap)) + " " + height + "\" role=\"img\">");
        h.raw("<title>");
        h.text("completed/failed per 5 min, last hour: " + join(s.completed()) + " / " + join(s.failed()));
        h.raw("</title>");
        for (int i = 0; i < BUCKETS; i++) {
            int x = i * (w + gap);
            int ok = (int) Math.round((double) s.completed()[i] * (height - 1) / max);
            int bad = (int) Math.round((double) s.failed()[i] * (height - 1) / max);
            h.raw("<rect class=\"bg\" x=\"" + x + "\" y=\"0\" width=\"" + w + "\" height=\"" + height + "\"/>");
            if (ok > 0 || s.completed()[i] > 0) {
                int hh = Math.max(1, ok);
                h.raw("<rect class=\"ok\" x=\"" + x + "\" y=\"" + (height - hh) + "\" width=\"" + w + "\" height=\"" + hh + "\"/>");
            }
            if (bad > 0 || s.failed()[i] > 0) {
                int hh = Math.max(1, bad);
                int top = height - Math.max(ok, s.completed()[i] > 0 ? 1 : 0) - hh;
                h.raw("<rect class=\"bad\" x=\"" + x + "\" y=\"" + Math.max(0, top) + "\" width=\"" + w + "\" height=\"" + hh + "\"/>");
            }
        }
        h.raw("</svg>");
    }

    private static String join(long[] values) {
        StringBuilder sb = new StringBuilder();
        for (long v : values) {
            sb.append(sb.length() == 0 ? "" : " ").append(v);
        }
        return sb.toString();
    }
}
