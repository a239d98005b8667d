package dev.pgqueue.dashboard;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last answer of each expensive read (queue statistics, counts over the whole table), shared by
 * every open page: a read older than the refresh interval is served as it is while one background
 * thread reads it again (stale while revalidate). So the database does each such read at most once
 * per interval however many pages poll, and a page waits for it only the first time. At most
 * {@value #MAX_KEYS} keys are kept; the thread ends when idle.
 */
final class Snapshots {

    private static final Logger log = LoggerFactory.getLogger(Snapshots.class);
    static final int MAX_KEYS = 256;

    private record Entry(Object value, long at, AtomicBoolean refreshing) {}

    private final long ttlNanos;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor refresher = new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(MAX_KEYS), r -> {
                Thread t = new Thread(r, "pgqueue-dashboard-refresh");
                t.setDaemon(true);
                return t;
            });

    Snapshots(java.time.Duration ttl) {
        this.ttlNanos = ttl.toNanos();
    }

    /** The value under {@code key}: fresh, or the last one while a fresh one is read in the background. */
    @SuppressWarnings("unchecked")
    <T> T get(String key, Supplier<T> read) {
        Entry found = entries.get(key);
        if (found == null || (found.value() == null && !found.refreshing().get())) {
            // Nothing yet (or a placeholder whose background read failed): read now.
            if (found == null && entries.size() >= MAX_KEYS) {
                evictOldest();
            }
            T value = read.get();
            entries.put(key, new Entry(value, System.nanoTime(), new AtomicBoolean()));
            return value;
        }
        refreshIfStale(key, found, read);
        return (T) found.value();
    }

    private void refreshIfStale(String key, Entry e, Supplier<?> read) {
        if (System.nanoTime() - e.at() <= ttlNanos || !e.refreshing().compareAndSet(false, true)) {
            return;
        }
        try {
            refresher.execute(() -> {
                try {
                    entries.put(key, new Entry(read.get(), System.nanoTime(), new AtomicBoolean()));
                } catch (RuntimeException failed) {
                    log.warn("dashboard: reading {} failed; pages keep the last value", key, failed);
                    e.refreshing().set(false);
                }
            });
        } catch (RejectedExecutionException busy) {
            e.refreshing().set(false);
        }
    }

    /**
     * As {@link #get}, but never waits: without a value yet it starts reading one in the background and
     * returns null (for what a page can show a moment later, such as the throughput charts).
     */
    <T> T peek(String key, Supplier<T> read) {
        Entry e = entries.get(key);
        if (e != null) {
            if (e.value() == null) {
                refreshIfStale(key, e, read);
                return null;
            }
            return get(key, read);
        }
        if (entries.size() >= MAX_KEYS) {
            evictOldest();
        }
        Entry placeholder = new Entry(null, System.nanoTime() - ttlNanos - 1, new AtomicBoolean());
        if (entries.putIfAbsent(key, placeholder) == null) {
            refreshIfStale(key, placeholder, read); // stale from the start: schedules the read
        }
        return null;
    }

    /** Forgets every value: after an action, so that the next page shows its effect. */
    void clear() {
        entries.clear();
    }

    private void evictOldest() {
        String oldest = null;
        long at = Long.MAX_VALUE;
        for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry> e = it.next();
            if (e.getValue().at() < at) {
                at = e.getValue().at();
                oldest = e.getKey();
            }
        }
        if (oldest != null) {
            entries.remove(oldest);
        }
    }
}
