package dev.pgqueue.bench;

import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

/**
 * The ceiling: a job queue in plain JDBC, with none of pgqueue's features, to show what the same
 * database allows. {@link #THREADS} worker threads, each on its own connection, loop: claim up to
 * {@code claimSize} jobs in one {@code UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING}, run them
 * (record their start) inline, complete them in one {@code UPDATE ... WHERE id = ANY(?)}. Autocommit,
 * prepared statements reused. A thread whose claim came back empty waits for a NOTIFY of the insert
 * trigger, seen by one listening connection, or {@link #IDLE_POLL_MILLIS} at most.
 */
final class RawCeiling implements Subject {

    static final int THREADS = 4;
    /** The peer benchmark's claim size. */
    static final int CLAIM_SIZE = 50;
    static final long IDLE_POLL_MILLIS = 1_000;
    private static final int LISTEN_WAIT_MILLIS = 250;

    /** How bulk enqueues are written. */
    enum Bulk {
        /** {@code INSERT ... SELECT ... FROM unnest(?, ...)}: one statement, arrays as parameters. */
        UNNEST,
        /** pgjdbc's {@link CopyManager}: {@code COPY ... FROM STDIN}. */
        COPY
    }

    /** W5 and W5R: as many threads as pgqueue's concurrency there, each claiming up to a W5R chunk. */
    static final int WORK_THREADS = PgQueueSubject.WORK_CONCURRENCY;
    static final int WORK_CLAIM_SIZE = 10;

    /** How the ceiling is set up: {@code threads} worker threads, each on its own connection. */
    record Config(RawTable table, int claimSize, Bulk bulk, int threads, boolean floor) {

        Config(RawTable table, int claimSize, Bulk bulk) {
            this(table, claimSize, bulk, THREADS, false);
        }

        Config(RawTable table, int claimSize, Bulk bulk, int threads) {
            this(table, claimSize, bulk, threads, false);
        }

        /**
         * Issue 18's claim floor, on pgqueue's table only: each thread's claim starts its index scan
         * past the claim order of the last job it claimed, instead of at the index's first entry, and
         * starts at the first entry (a full claim) at most once every {@link #FULL_CLAIM_NANOS}.
         */
        Config withFloor() {
            if (table != RawTable.PGQUEUE) {
                throw new IllegalArgumentException("the claim floor is written for pgqueue's table");
            }
            return new Config(table, claimSize, bulk, threads, true);
        }

        /** W5 and W5R: {@link #WORK_THREADS} threads claiming up to {@link #WORK_CLAIM_SIZE} jobs. */
        static Config work(RawTable table) {
            return new Config(table, WORK_CLAIM_SIZE, Bulk.UNNEST, WORK_THREADS);
        }

        /** As {@link #work} but claiming one job at a time. */
        static Config workOneAtATime(RawTable table) {
            return new Config(table, 1, Bulk.UNNEST, WORK_THREADS);
        }
    }

    private final Config config;
    private final Connection producer;
    private final PreparedStatement insertOne;
    /** One per worker thread, then the listening one; opened before any clock starts, as pgqueue's pool. */
    private final List<Connection> connections = new ArrayList<>();
    private final Wakeup wakeup = new Wakeup();
    private final SubjectThreads threads = new SubjectThreads();
    private final String owner = "raw-ceiling-" + ProcessHandle.current().pid();
    private volatile boolean running = true;

    RawCeiling(String url, Config config) throws SQLException {
        this.config = config;
        config.table().create(url);
        producer = Server.connect(url);
        try {
            insertOne = producer.prepareStatement(config.table().insertOne);
            for (int i = 0; i <= config.threads(); i++) {
                connections.add(Server.connect(url));
            }
        } catch (SQLException e) {
            closeConnections();
            throw e;
        }
    }

    @Override
    public void enqueueOne(long stamp) throws SQLException {
        config.table().bindInsertOne(insertOne, new Stamp(stamp).json());
        insertOne.executeUpdate();
    }

    @Override
    public void enqueueStamped(int jobs, long stamp) throws SQLException, IOException {
        List<String> payloads = Collections.nCopies(jobs, new Stamp(stamp).json());
        if (config.bulk() == Bulk.COPY) {
            StringBuilder rows = new StringBuilder(jobs * 80);
            payloads.forEach(payload -> config.table().appendCopyRow(rows, payload));
            CopyManager copy = producer.unwrap(PGConnection.class).getCopyAPI();
            copy.copyIn(config.table().copy, new StringReader(rows.toString()));
        } else {
            try (PreparedStatement insert = producer.prepareStatement(config.table().insertMany)) {
                config.table().bindInsertMany(producer, insert, payloads);
                insert.executeUpdate();
            }
        }
    }

    @Override
    public void enqueueWork(List<Work> jobs) throws SQLException {
        try (PreparedStatement insert = producer.prepareStatement(config.table().insertMany)) {
            config.table().bindInsertMany(producer, insert, jobs.stream().map(Work::json).toList());
            insert.executeUpdate();
        }
    }

    @Override
    public void startWorker(Recorder recorder) throws SQLException {
        listen();
        for (int i = 0; i < config.threads(); i++) {
            Connection c = connections.get(i);
            threads.start("raw-worker-" + i, () -> work(c, recorder));
        }
    }

    @Override
    public void startWork(Completions completions) throws SQLException {
        listen();
        for (int i = 0; i < config.threads(); i++) {
            Connection c = connections.get(i);
            threads.start("raw-work-" + i, () -> transactionalWork(c, completions));
        }
    }

    @Override
    public String idType() {
        return config.table().idType;
    }

    @Override
    public String attemptColumn() {
        return config.table().attemptColumn;
    }

    private void listen() throws SQLException {
        Connection listening = connections.get(config.threads());
        try (Statement st = listening.createStatement()) {
            st.execute("LISTEN " + config.table().channel(listening));
        }
        PGConnection notifications = listening.unwrap(PGConnection.class);
        threads.start("raw-listen", () -> listen(notifications));
    }

    /** With {@link Config#floor}: how often a thread's claim starts at the claim index's first entry. */
    static final long FULL_CLAIM_NANOS = 1_000_000_000L;

    /**
     * The claim floor: claims past the claim order (priority, run_at, id) of the last job this thread
     * claimed, so that the index scan never walks the entries that earlier claims left dead (they sort
     * before it, and a pinned xmin horizon keeps them), and once a second from the first entry, so that
     * a job that sorts before the floor (a more urgent priority, a job released or made due late) waits
     * at most that long. The id order is PostgreSQL's (bytewise), compared here as unsigned longs.
     */
    private void workWithFloor(Connection c, Recorder recorder) {
        int limit = config.claimSize();
        String claimSql = """
                UPDATE job_queue j
                   SET status = 'processing',
                       attempt = j.attempt + 1,
                       processed_at = now(),
                       lease_owner = ?,
                       lease_token = ?,
                       lease_expires_at = now() + interval '60 seconds'
                 WHERE j.id IN (SELECT id
                                  FROM job_queue
                                 WHERE status = 'pending' AND queue = 'default' AND run_at <= now()
                                   AND (priority, run_at, id) > (?, ?, ?)
                                 ORDER BY priority, run_at, id
                                 LIMIT ?
                                   FOR UPDATE SKIP LOCKED)
                RETURNING j.id, CAST(j.payload AS text), j.priority, j.run_at""";
        int floorPriority = Integer.MIN_VALUE;
        java.sql.Timestamp floorRunAt = null;
        UUID floorId = null;
        long lastFull = 0;
        try (PreparedStatement claim = c.prepareStatement(claimSql);
             PreparedStatement complete = c.prepareStatement(config.table().complete)) {
            Object[] ids = new Object[limit];
            while (running) {
                long seen = wakeup.generation();
                boolean full = floorId == null || System.nanoTime() - lastFull > FULL_CLAIM_NANOS;
                claim.setString(1, owner);
                claim.setObject(2, UUID.randomUUID());
                if (full) {
                    lastFull = System.nanoTime();
                    claim.setInt(3, Integer.MIN_VALUE);
                    claim.setTimestamp(4, java.sql.Timestamp.valueOf("1900-01-01 00:00:00"));
                    claim.setObject(5, new UUID(0, 0));
                } else {
                    claim.setInt(3, floorPriority);
                    claim.setTimestamp(4, floorRunAt);
                    claim.setObject(5, floorId);
                }
                claim.setInt(6, limit);
                int claimed = 0;
                try (ResultSet rs = claim.executeQuery()) {
                    while (rs.next()) {
                        UUID id = (UUID) rs.getObject(1);
                        ids[claimed++] = id;
                        recorder.jobStarted(Stamp.parse(rs.getString(2))); // the no-op job
                        int priority = rs.getInt(3);
                        java.sql.Timestamp runAt = rs.getTimestamp(4);
                        if (floorId == null || (full && claimed == 1)
                                || compareKeys(priority, runAt, id, floorPriority, floorRunAt, floorId) > 0) {
                            floorPriority = priority;
                            floorRunAt = runAt;
                            floorId = id;
                        }
                    }
                }
                if (claimed == 0) {
                    wakeup.await(seen, IDLE_POLL_MILLIS);
                    continue;
                }
                complete.setArray(1, c.createArrayOf(config.table().idType, Arrays.copyOf(ids, claimed)));
                complete.executeUpdate();
            }
        } catch (SQLException e) {
            if (running) {
                threads.fail(e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int compareKeys(int p1, java.sql.Timestamp r1, UUID i1, int p2, java.sql.Timestamp r2, UUID i2) {
        int order = Integer.compare(p1, p2);
        if (order == 0) {
            order = r1.compareTo(r2);
        }
        if (order == 0) {
            order = Long.compareUnsigned(i1.getMostSignificantBits(), i2.getMostSignificantBits());
        }
        return order != 0 ? order : Long.compareUnsigned(i1.getLeastSignificantBits(), i2.getLeastSignificantBits());
    }

    private void work(Connection c, Recorder recorder) {
        if (config.floor()) {
            workWithFloor(c, recorder);
            return;
        }
        RawTable table = config.table();
        int limit = config.claimSize();
        try (PreparedStatement claim = c.prepareStatement(table.claim);
             PreparedStatement complete = c.prepareStatement(table.complete)) {
            Object[] ids = new Object[limit];
            while (running) {
                long seen = wakeup.generation();
                table.bindClaim(claim, limit, owner);
                int claimed = 0;
                try (ResultSet rs = claim.executeQuery()) {
                    while (rs.next()) {
                        ids[claimed++] = rs.getObject(1);
                        recorder.jobStarted(Stamp.parse(rs.getString(2))); // the no-op job
                    }
                }
                if (claimed == 0) {
                    wakeup.await(seen, IDLE_POLL_MILLIS);
                    continue;
                }
                complete.setArray(1, c.createArrayOf(table.idType, Arrays.copyOf(ids, claimed)));
                complete.executeUpdate();
            }
        } catch (SQLException e) {
            if (running) {
                threads.fail(e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The W5 loop: claim up to {@code claimSize} jobs (autocommit), then per job: spin, and in one
     * transaction insert its result and complete it; a planned failure rolls the insert back and
     * hands the job back as pending, due at once, in its own statement.
     */
    private void transactionalWork(Connection c, Completions completions) {
        RawTable table = config.table();
        int limit = config.claimSize();
        try (PreparedStatement claim = c.prepareStatement(table.claimWithAttempt);
             PreparedStatement insertResult = c.prepareStatement(RawTable.INSERT_RESULT);
             PreparedStatement complete = c.prepareStatement(table.completeOne);
             PreparedStatement retry = c.prepareStatement(table.retryOne)) {
            Object[] ids = new Object[limit];
            Work[] payloads = new Work[limit];
            int[] attempts = new int[limit];
            while (running) {
                long seen = wakeup.generation();
                table.bindClaim(claim, limit, owner);
                int claimed = 0;
                try (ResultSet rs = claim.executeQuery()) {
                    while (rs.next()) {
                        ids[claimed] = rs.getObject(1);
                        payloads[claimed] = Work.parse(rs.getString(2));
                        attempts[claimed++] = rs.getInt(3);
                    }
                }
                if (claimed == 0) {
                    wakeup.await(seen, IDLE_POLL_MILLIS);
                    continue;
                }
                for (int i = 0; i < claimed; i++) {
                    completions.attempted();
                    c.setAutoCommit(false);
                    try {
                        Work.spin();
                        insertResult.setObject(1, ids[i]);
                        insertResult.executeUpdate();
                        if (payloads[i].failsOn(attempts[i])) {
                            throw new Work.PlannedFailure();
                        }
                        complete.setObject(1, ids[i]);
                        complete.executeUpdate();
                        c.commit();
                        completions.done(payloads[i].ts());
                    } catch (Work.PlannedFailure e) {
                        c.rollback();
                        c.setAutoCommit(true);
                        retry.setObject(1, ids[i]);
                        retry.executeUpdate();
                    } finally {
                        c.setAutoCommit(true);
                    }
                }
            }
        } catch (SQLException e) {
            if (running) {
                threads.fail(e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void listen(PGConnection connection) {
        try {
            while (running) {
                PGNotification[] received = connection.getNotifications(LISTEN_WAIT_MILLIS);
                if (received != null && received.length > 0) {
                    wakeup.signal();
                }
            }
        } catch (SQLException e) {
            if (running) {
                threads.fail(e);
            }
        }
    }

    @Override
    public Optional<Throwable> failure() {
        return threads.failure();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        wakeup.signal();
        threads.join(false);
        closeConnections();
    }

    private void closeConnections() {
        List<Connection> all = new ArrayList<>(connections);
        all.add(producer);
        for (Connection c : all) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (SQLException ignored) {
                // closing after the measurement: nothing to do about it
            }
        }
    }

    /**
     * A generation count that the listener bumps on every NOTIFY: a worker reads it before its claim
     * and, if the claim was empty, sleeps only while it is unchanged, so that a NOTIFY arriving during
     * the claim is not missed.
     */
    static final class Wakeup {
        private long generation; // guarded by this

        synchronized long generation() {
            return generation;
        }

        synchronized void signal() {
            generation++;
            notifyAll();
        }

        synchronized void await(long seen, long millis) throws InterruptedException {
            long deadline = System.nanoTime() + millis * 1_000_000L;
            long left;
            while (generation == seen && (left = deadline - System.nanoTime()) > 0) {
                wait(Math.max(1, left / 1_000_000L));
            }
        }
    }
}
