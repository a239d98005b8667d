package dev.pgqueue.bench;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The daemon threads of a hand-written subject (the raw references, the storage prototypes) and the
 * first failure any of them met, which the measurement reports through {@link Subject#failure()}.
 */
final class SubjectThreads {

    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** Starts {@code body} on a daemon thread; what it throws is recorded as the failure. */
    void start(String name, Runnable body) {
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                fail(e);
            }
        }, name);
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    /** Records {@code e} unless a failure is recorded already. */
    void fail(Throwable e) {
        failure.compareAndSet(null, e);
    }

    Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** Waits up to 5 s for each thread to end, interrupting it first if {@code interrupt}. */
    void join(boolean interrupt) throws InterruptedException {
        for (Thread thread : threads) {
            if (interrupt) {
                thread.interrupt();
            }
            thread.join(5_000);
        }
    }
}
