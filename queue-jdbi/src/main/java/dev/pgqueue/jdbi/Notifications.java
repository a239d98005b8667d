package dev.pgqueue.jdbi;

import dev.pgqueue.internal.LogText;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.ListenState;
import dev.pgqueue.spi.JobStore.StoreListener;
import dev.pgqueue.spi.JobStore.Subscription;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers "jobs available" and "cancel requested" to a store's subscribers: at once for this
 * process's own commits, and from the schema's NOTIFY channel for everyone else's.
 *
 * <p>Listening holds one connection of the pool for as long as anyone is subscribed, on a daemon
 * thread of its own. When that connection fails (the server restarted, a proxy cut it, someone ran
 * {@code pg_terminate_backend}) the thread reconnects with jittered backoff and tells subscribers
 * {@link StoreListener#reconnected()} after every successful LISTEN, the first one included,
 * because a NOTIFY sent while nobody listened is gone and only a poll finds those jobs.
 */
final class Notifications {

    private static final Logger log = LoggerFactory.getLogger(Notifications.class);
    private static final int WAIT_MILLIS = 500;
    private static final int MAX_BACKOFF_MILLIS = 5_000;
    private static final long KEEPALIVE_MILLIS = 30_000;
    static final String CANCEL_PREFIX = "cancel:";
    /** V7's job_queue_pause/job_queue_resume: a queue's state changed (a hint; workers re-read it). */
    static final String QUEUES_PREFIX = "queues:";
    /** Malformed notifications are logged at most this often, however many arrive. */
    private static final long IGNORED_LOG_INTERVAL_NANOS = 60_000_000_000L;

    private final Jdbi jdbi;
    private final String schema;
    private final boolean listen;
    private final List<StoreListener> listeners = new CopyOnWriteArrayList<>();
    private Thread thread;
    private volatile boolean running;
    /** Whether the listening connection is up right now. */
    private volatile boolean connected;
    /**
     * Handled once after the first LISTEN as a notification is, but handed to no subscriber: a fresh
     * JVM otherwise loads and links that code when the first job's notification arrives (in W2 the
     * fetcher woke 1–72 ms after that notification was read, mostly 8–25 ms; 0.1 ms later on).
     */
    static final String WARM_UP_PAYLOAD = "";
    /** Whether {@link #WARM_UP_PAYLOAD} was handled; the listening thread's own. */
    private boolean warm;
    /** Malformed notifications since the last one logged, and when that was; the listening thread's own. */
    private long ignoredSinceLogged;
    private long ignoredLoggedAtNanos;

    Notifications(Jdbi jdbi, String schema, boolean listen) {
        this.jdbi = jdbi;
        this.schema = schema;
        this.listen = listen;
    }

    /** Whether subscribers hold a connection of the pool for LISTEN. */
    boolean listens() {
        return listen;
    }

    synchronized Subscription subscribe(StoreListener listener) {
        listeners.add(listener);
        if (listen && thread == null) {
            running = true;
            thread = new Thread(this::listenUntilStopped, "pgqueue-listen-" + schema);
            thread.setDaemon(true);
            thread.start();
        }
        return new Subscription() {
            @Override
            public void close() {
                unsubscribe(listener);
            }

            @Override
            public ListenState listenState() {
                return !listen ? ListenState.OFF : connected ? ListenState.UP : ListenState.DOWN;
            }
        };
    }

    void announceInserts(InsertParams params) {
        if (listeners.isEmpty()) {
            return;
        }
        Set<String> queues = new LinkedHashSet<>();
        params.jobs().forEach(job -> queues.add(job.queue()));
        queues.forEach(this::jobsAvailable);
    }

    /** This process found due jobs of {@code queue} that a claim may not have seen (a claim floor's sweep): its own subscribers wake. */
    void announceJobsAvailable(String queue) {
        jobsAvailable(queue);
    }

    /** This process paused or resumed {@code queue}: its own subscribers re-read, and wake if resumed. */
    void announceQueuesChanged(String queue, boolean resumed) {
        listeners.forEach(StoreListener::queuesChanged);
        if (resumed) {
            jobsAvailable(queue);
        }
    }

    void announceCancel(UUID jobId) {
        listeners.forEach(l -> l.cancelRequested(jobId));
    }

    private void unsubscribe(StoreListener listener) {
        Thread stopping;
        synchronized (this) {
            listeners.remove(listener);
            if (!listeners.isEmpty() || thread == null) {
                return;
            }
            running = false;
            stopping = thread;
            thread = null;
        }
        try {
            stopping.join(WAIT_MILLIS * 4L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void listenUntilStopped() {
        int failures = 0;
        while (running) {
            try (Handle handle = jdbi.open()) {
                Connection connection = handle.getConnection();
                try (Statement st = connection.createStatement()) {
                    try {
                        st.execute("LISTEN " + SqlFiles.quote(channel(st)));
                        failures = 0;
                        connected = true;
                        listeners.forEach(StoreListener::reconnected);
                        if (!warm) {
                            deliver(WARM_UP_PAYLOAD, List.of());
                            warm = true;
                        }
                        receive(connection.unwrap(PGConnection.class), st);
                    } finally {
                        connected = false;
                        unlisten(st); // the connection goes back to the pool: leave it as we found it
                    }
                }
            } catch (Exception e) {
                if (!running) {
                    return;
                }
                failures++;
                long backoff = Math.min(MAX_BACKOFF_MILLIS, 100L << Math.min(failures, 6));
                long sleep = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
                log.warn("lost the notification connection for schema {} ({}); reconnecting in {} ms, polling meanwhile",
                        schema, LogText.of(e.getMessage()), sleep);
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private String channel(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT " + SqlFiles.quote(schema) + ".job_queue_channel()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * Delivers notifications until stopped. Every {@link #KEEPALIVE_MILLIS} of silence it asks the
     * server something, because a connection whose peer vanished (a half-open TCP connection) would
     * otherwise just look quiet forever.
     */
    private void receive(PGConnection connection, Statement st) throws SQLException {
        long lastHeard = System.nanoTime();
        while (running) {
            PGNotification[] received = connection.getNotifications(WAIT_MILLIS);
            if (received == null || received.length == 0) {
                if (System.nanoTime() - lastHeard > KEEPALIVE_MILLIS * 1_000_000L) {
                    st.execute("SELECT 1");
                    lastHeard = System.nanoTime();
                }
                continue;
            }
            lastHeard = System.nanoTime();
            for (PGNotification notification : received) {
                deliver(notification.getParameter(), listeners);
            }
        }
    }

    /**
     * One notification, for {@code to} (the subscribers; none for the warm-up's). Any role that can
     * connect may NOTIFY on the channel, so none is trusted: a cancellation is only a hint that the
     * worker checks against the job's row, and a wake-up only makes the fetcher look at a queue it
     * serves (one claim, however many arrive at once). A malformed one is skipped, and logged escaped
     * and cut, at most once a minute.
     */
    private void deliver(String payload, List<StoreListener> to) {
        try {
            if (payload.startsWith(CANCEL_PREFIX)) {
                UUID jobId = UUID.fromString(payload.substring(CANCEL_PREFIX.length()));
                to.forEach(l -> l.cancelRequested(jobId));
            } else if (payload.startsWith(QUEUES_PREFIX)) {
                to.forEach(StoreListener::queuesChanged);
            } else {
                to.forEach(l -> l.jobsAvailable(payload));
            }
        } catch (RuntimeException e) {
            ignored(payload);
        }
    }

    private void ignored(String payload) {
        ignoredSinceLogged++;
        long now = System.nanoTime();
        if (ignoredLoggedAtNanos != 0 && now - ignoredLoggedAtNanos < IGNORED_LOG_INTERVAL_NANOS) {
            return;
        }
        log.warn("ignored {} malformed notification(s) on schema {}'s channel; the latest: {}",
                ignoredSinceLogged, schema, LogText.of(payload));
        ignoredSinceLogged = 0;
        ignoredLoggedAtNanos = now;
    }

    private static void unlisten(Statement st) {
        try {
            st.execute("UNLISTEN *");
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
        }
    }

    private void jobsAvailable(String queue) {
        listeners.forEach(l -> l.jobsAvailable(queue));
    }
}
