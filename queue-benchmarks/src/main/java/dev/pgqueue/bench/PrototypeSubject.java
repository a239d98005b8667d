package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Runs a {@link Prototype} as a worker would (PROTOTYPE, issue 18): {@link #THREADS} threads, each on
 * its own connection, loop: claim up to {@link #CLAIM_SIZE} jobs (one thread at a time, as pgqueue's
 * one fetcher claims for all its handlers), run them (record their start), complete them in one
 * statement; while one thread completes, the other claims. A thread whose claim came back empty
 * waits for the producer's NOTIFY (one listening connection) or {@link #IDLE_POLL_MILLIS}. A
 * maintenance thread calls {@link Prototype#maintain} every {@link Prototype#MAINTENANCE_MILLIS}.
 * The producer enqueues through a connection of its own, in one transaction with a NOTIFY.
 */
final class PrototypeSubject implements StorageWorkloads.StorageSubject {

    static final int THREADS = 2;
    /** pgqueue's {@code Worker.DEFAULT_BATCH_SIZE}, what its claims of no-op jobs carry. */
    static final int CLAIM_SIZE = 500;
    static final long IDLE_POLL_MILLIS = 250;
    private static final String CHANNEL = "proto_queue";

    private final Prototype prototype;
    private final Connection producer;
    private final List<Connection> connections = new ArrayList<>();
    private final ReentrantLock claiming = new ReentrantLock();
    private final RawCeiling.Wakeup wakeup = new RawCeiling.Wakeup();
    private final SubjectThreads threads = new SubjectThreads();
    private volatile boolean running = true;

    PrototypeSubject(String url, Prototype prototype) throws SQLException {
        this.prototype = prototype;
        producer = Server.connect(url);
        prototype.create(producer);
        producer.setAutoCommit(false);
        for (int i = 0; i < THREADS + 2; i++) { // workers, maintenance, listener
            Connection c = Server.connect(url);
            connections.add(c);
            try (Statement st = c.createStatement()) {
                // The ring's partitions go from empty to full between ANALYZEs; statistics taken right
                // after a TRUNCATE made the planner seq-scan full partitions per probed row (completions
                // of 500 jobs took 1-2 s). The hot-path statements are written for index paths: plan them
                // so, every time (no generic plan from stale statistics).
                st.execute("SET enable_seqscan = off");
                st.execute("SET enable_hashjoin = off");
                st.execute("SET enable_mergejoin = off");
                st.execute("SET plan_cache_mode = force_custom_plan");
                // A disabled node costs 1e10, so every plan looks expensive enough for JIT compilation
                // (jit_above_cost 100,000): 300-600 ms per statement, measured (an unavoidable seq scan
                // of the one-row segment sequence in the claim's INSERT did it).
                st.execute("SET jit = off");
            }
        }
    }

    @Override
    public String name() {
        return prototype.name();
    }

    @Override
    public List<String> tables() {
        return prototype.tables();
    }

    @Override
    public void enqueue(int jobs, long stamp) throws SQLException {
        try {
            prototype.enqueue(producer, jobs, stamp);
            try (Statement st = producer.createStatement()) {
                st.execute("NOTIFY " + CHANNEL);
            }
            producer.commit();
        } catch (SQLException | RuntimeException e) {
            producer.rollback();
            throw e;
        }
    }

    @Override
    public long unfinished(String url) throws SQLException {
        try (Connection c = Server.connect(url)) {
            return prototype.unfinished(c);
        }
    }

    @Override
    public void start(Recorder recorder) throws SQLException {
        Connection listening = connections.get(THREADS + 1);
        try (Statement st = listening.createStatement()) {
            st.execute("LISTEN " + CHANNEL);
        }
        PGConnection notifications = listening.unwrap(PGConnection.class);
        threads.start("proto-listen", () -> {
            try {
                while (running) {
                    PGNotification[] got = notifications.getNotifications(250);
                    if (got != null && got.length > 0) {
                        wakeup.signal();
                    }
                }
            } catch (SQLException e) {
                if (running) {
                    throw new IllegalStateException(e);
                }
            }
        });
        Connection maintenance = connections.get(THREADS);
        try (Statement st = maintenance.createStatement()) {
            st.execute("SET max_parallel_workers_per_gather = 0"); // its scans take one core at most
        }
        threads.start("proto-maintenance", () -> {
            try {
                while (running) {
                    prototype.maintain(maintenance);
                    Thread.sleep(Prototype.MAINTENANCE_MILLIS);
                }
            } catch (SQLException e) {
                if (running) {
                    throw new IllegalStateException(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < THREADS; i++) {
            Connection c = connections.get(i);
            threads.start("proto-worker-" + i, () -> work(c, recorder));
        }
    }

    private void work(Connection c, Recorder recorder) {
        try {
            while (running) {
                long seen = wakeup.generation();
                List<Prototype.Claimed> batch;
                claiming.lock();
                try {
                    batch = prototype.claim(c, CLAIM_SIZE);
                } finally {
                    claiming.unlock();
                }
                if (batch.isEmpty()) {
                    wakeup.await(seen, IDLE_POLL_MILLIS);
                    continue;
                }
                for (Prototype.Claimed job : batch) {
                    recorder.jobStarted(job.stamp()); // the no-op job
                }
                int done = prototype.complete(c, batch);
                if (done != batch.size()) {
                    throw new IllegalStateException("completed " + done + " of " + batch.size() + " claimed jobs: fenced?");
                }
            }
        } catch (SQLException e) {
            if (running) {
                throw new IllegalStateException(e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public Optional<Throwable> failure() {
        return threads.failure();
    }

    @Override
    public String state() {
        return prototype.toString();
    }

    @Override
    public void close() throws Exception {
        running = false;
        threads.join(true);
        for (Connection c : connections) {
            c.close();
        }
        producer.close();
    }
}
