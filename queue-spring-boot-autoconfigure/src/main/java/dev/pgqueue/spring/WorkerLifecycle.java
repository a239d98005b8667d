package dev.pgqueue.spring;

import dev.pgqueue.Worker;
import java.util.Objects;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the auto-configured {@link Worker} once the application context is refreshed, and stops it
 * gracefully when the context closes: stop claiming, let running jobs finish within the worker's
 * shutdown timeout, hand the rest back ({@link Worker#close()}).
 *
 * <p>It runs in phase {@value #PHASE}, Spring's last: it starts after every other lifecycle bean (the
 * web server included) and stops before them, while the data source is still open. Spring waits for
 * it up to {@code spring.lifecycle.timeout-per-shutdown-phase}; the auto-configuration keeps the
 * worker's shutdown timeout within that (docs/spring-boot.md, "Lifecycle"). {@link #stop(Runnable)}
 * closes the worker on a thread of its own, so that other beans of the phase stop meanwhile. A closed
 * worker does not start again: a context that is stopped and then started again has no worker.
 */
public final class WorkerLifecycle implements SmartLifecycle {

    /** The lifecycle phase: {@value}, that of {@link SmartLifecycle#DEFAULT_PHASE}. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE;

    private final Worker worker;
    private volatile boolean running;

    /**
     * A lifecycle for {@code worker}, which must not have been started.
     *
     * @param worker the worker to start and stop
     */
    public WorkerLifecycle(Worker worker) {
        this.worker = Objects.requireNonNull(worker, "worker");
    }

    /** Starts the worker. */
    @Override
    public void start() {
        worker.start();
        running = true;
    }

    /** Closes the worker and returns when it is closed; see {@link Worker#close()}. */
    @Override
    public void stop() {
        running = false;
        worker.close();
    }

    /**
     * Closes the worker on a thread named {@code pgqueue-shutdown}, then calls {@code callback}.
     *
     * @param callback told when the worker is closed
     */
    @Override
    public void stop(Runnable callback) {
        running = false;
        Thread closer = new Thread(() -> {
            try {
                worker.close();
            } finally {
                callback.run();
            }
        }, "pgqueue-shutdown");
        closer.start();
    }

    /** {@return whether the worker was started and not stopped since} */
    @Override
    public boolean isRunning() {
        return running;
    }

    /** {@return {@value #PHASE}} */
    @Override
    public int getPhase() {
        return PHASE;
    }

    /** {@return the worker this lifecycle starts and stops} */
    public Worker worker() {
        return worker;
    }
}
