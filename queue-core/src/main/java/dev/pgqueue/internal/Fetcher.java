package dev.pgqueue.internal;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.NextDueParams;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claim loop: one thread that claims jobs for every served queue, as many as the
 * {@link Dispatcher} can take (free slots and claim-ahead, up to the batch size), in one round trip
 * per queue, and hands them to it.
 *
 * <p>It claims again at once while a queue may hold more due jobs (the last claim was full, a
 * NOTIFY or local enqueue said so, a retry or snooze came due); otherwise it sleeps until the
 * earliest of: a wake-up signal, the next due time it knows of, and the poll interval. So an idle
 * worker costs one query per poll interval and queue, and never busy-loops. When the database
 * fails it logs, backs off with jitter (up to the poll interval or 5 s) and tries again.
 */
final class Fetcher implements Runnable, ClaimHints {

    private static final Logger log = LoggerFactory.getLogger(Fetcher.class);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** What the fetcher knows about one queue. Guarded by {@link #lock}. */
    private static final class QueueState {
        final String name;
        boolean mayHaveMore = true;
        long dueAtNanos = Long.MAX_VALUE;

        QueueState(String name) {
            this.name = name;
        }
    }

    private final JobStore store;
    private final StoreNow now;
    private final Set<String> types;
    private final int batchSize;
    private final Duration leaseDuration;
    private final Duration pollInterval;
    private final String workerId;
    private final Dispatcher dispatcher;
    private final Map<String, QueueState> queues = new LinkedHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition signal = lock.newCondition();
    private boolean signalled;
    private volatile boolean running = true;
    private int failures;
    /** Queues paused for every worker (the {@link PauseWatch} keeps it current): never claimed from. */
    private volatile Set<String> paused = Set.of();
    /** Told of every claim that reached the database, for the worker's health. */
    private final Vitals vitals;

    /**
     * @param store         claims the jobs
     * @param now           "now" for the store (see {@link StoreNow})
     * @param queues        the served queues, in the order each round claims them
     * @param types         the job types this worker has handlers for: the only ones it claims
     * @param batchSize     the most jobs one claim takes
     * @param leaseDuration each claimed job's lease
     * @param pollInterval  the longest it sleeps without looking
     * @param workerId      the lease owner, and for the log
     * @param dispatcher    says how many jobs each queue can take, and takes them
     * @param vitals        told of each successful claim round
     */
    Fetcher(JobStore store, StoreNow now, Set<String> queues, Set<String> types, int batchSize, Duration leaseDuration,
            Duration pollInterval, String workerId, Dispatcher dispatcher, Vitals vitals) {
        this.store = store;
        this.now = now;
        this.types = types;
        this.batchSize = batchSize;
        this.leaseDuration = leaseDuration;
        this.pollInterval = pollInterval;
        this.workerId = workerId;
        this.dispatcher = dispatcher;
        this.vitals = vitals;
        queues.forEach(name -> this.queues.put(name, new QueueState(name)));
    }

    @Override
    public void run() {
        long nextPoll = System.nanoTime() + pollNanos();
        while (running) {
            try {
                boolean claimAgain = claimRound();
                vitals.claimed();
                failures = 0;
                if (!claimAgain) {
                    nextPoll = sleepUntilWoken(nextPoll);
                }
            } catch (Throwable e) {
                if (!running) {
                    break;
                }
                failures++;
                vitals.unreachable(e);
                long backoff = backoffNanos();
                log.warn("worker {} could not claim jobs ({}); retrying in {} ms",
                        workerId, LogText.of(e.getMessage()), TimeUnit.NANOSECONDS.toMillis(backoff));
                markAll();
                pause(backoff);
            }
        }
    }

    /** Jobs may be available on {@code queue} (NOTIFY, a local enqueue, a rescue). */
    void jobsAvailable(String queue) {
        lock.lock();
        try {
            QueueState state = queues.get(queue);
            if (state != null) {
                state.mayHaveMore = true;
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    /** A job of {@code queue} becomes due after {@code delay} (a retry or snooze this worker recorded). */
    @Override
    public void jobDueIn(String queue, Duration delay) {
        lock.lock();
        try {
            QueueState state = queues.get(queue);
            if (state != null) {
                state.dueAtNanos = Math.min(state.dueAtNanos, System.nanoTime() + delay.toNanos());
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The queues paused for every worker now. A queue no longer paused is looked at at once (its jobs
     * waited); a newly paused one is not claimed from after the claim in flight, if any.
     */
    void paused(Set<String> now) {
        Set<String> resumed = new java.util.HashSet<>(paused);
        resumed.removeAll(now);
        paused = Set.copyOf(now);
        lock.lock();
        try {
            for (String queue : resumed) {
                QueueState state = queues.get(queue);
                if (state != null) {
                    state.mayHaveMore = true;
                    wake();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Notifications may have been missed: look at every queue again. */
    void reconnected() {
        markAll();
    }

    @Override
    public void slotFreed() {
        lock.lock();
        try {
            wake();
        } finally {
            lock.unlock();
        }
    }

    void stop() {
        running = false;
        slotFreed();
    }

    /** Claims for each queue that has free slots and may have due jobs; true if a claim came back full. */
    private boolean claimRound() {
        boolean claimAgain = false;
        for (QueueState state : queues.values()) {
            if (!running) {
                return false;
            }
            if (paused.contains(state.name)) {
                continue; // its signals stay set: it is looked at once resumed
            }
            int free = dispatcher.claimable(state.name);
            if (free <= 0 || !takeWork(state)) {
                continue;
            }
            int limit = Math.min(free, batchSize);
            long started = System.nanoTime();
            List<ClaimedJob> claimed = store.jobClaim(new ClaimParams(
                    state.name,
                    types,
                    limit,
                    workerId,
                    UUID.randomUUID(),
                    leaseDuration,
                    now.now()));
            if (!claimed.isEmpty()) {
                dispatcher.dispatch(claimed);
                dispatcher.claimed(state.name, System.nanoTime() - started);
            }
            if (claimed.size() == limit) {
                markMayHaveMore(state);
                claimAgain |= dispatcher.claimable(state.name) > 0;
            } else {
                learnNextDue(state);
            }
        }
        return claimAgain;
    }

    /** Whether the queue is worth a claim now; resets what made it so (a new signal sets it again). */
    private boolean takeWork(QueueState state) {
        lock.lock();
        try {
            boolean due = state.dueAtNanos <= System.nanoTime();
            if (!state.mayHaveMore && !due) {
                return false;
            }
            state.mayHaveMore = false;
            if (due) {
                state.dueAtNanos = Long.MAX_VALUE;
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void learnNextDue(QueueState state) {
        Optional<Duration> next = store.jobNextDue(new NextDueParams(state.name, types, now.now()));
        next.ifPresent(delay -> jobDueIn(state.name, delay));
    }

    private void markMayHaveMore(QueueState state) {
        lock.lock();
        try {
            state.mayHaveMore = true;
        } finally {
            lock.unlock();
        }
    }

    private void markAll() {
        lock.lock();
        try {
            queues.values().forEach(state -> state.mayHaveMore = true);
            wake();
        } finally {
            lock.unlock();
        }
    }

    /** Sleeps until a signal, a due time or the next poll; returns the (maybe new) next poll time. */
    private long sleepUntilWoken(long nextPoll) {
        lock.lock();
        try {
            while (running && !signalled) {
                long now = System.nanoTime();
                if (now >= nextPoll) {
                    queues.values().forEach(state -> state.mayHaveMore = true);
                    return now + pollNanos();
                }
                long wakeAt = nextPoll;
                for (QueueState state : queues.values()) {
                    if (paused.contains(state.name) || dispatcher.claimable(state.name) <= 0) {
                        continue; // a freed slot signals; a due time alone cannot help a full queue
                    }
                    if (state.dueAtNanos <= now) {
                        return nextPoll;
                    }
                    wakeAt = Math.min(wakeAt, state.dueAtNanos);
                }
                signal.awaitNanos(Math.max(1, wakeAt - now));
            }
            signalled = false;
            return nextPoll;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
            return nextPoll;
        } finally {
            lock.unlock();
        }
    }

    private void wake() {
        signalled = true;
        signal.signal();
    }

    private long pollNanos() {
        long poll = pollInterval.toNanos();
        // up to 10% jitter, so that workers started together do not poll together
        return poll - ThreadLocalRandom.current().nextLong(poll / 10 + 1);
    }

    private long backoffNanos() {
        long cap = Math.min(MAX_BACKOFF_NANOS, pollInterval.toNanos());
        long ceiling = Math.min(cap, TimeUnit.MILLISECONDS.toNanos(100) << Math.min(failures, 10));
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    }

    private void pause(long nanos) {
        lock.lock();
        try {
            long remaining = nanos;
            while (running && remaining > 0) {
                remaining = signal.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }
}
