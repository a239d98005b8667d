package dev.pgqueue.jdbi;

import dev.pgqueue.internal.Check;
import dev.pgqueue.spi.JobStore.QueuePauseParams;
import java.util.Set;

/**
 * Pausing and resuming queues for every worker of a store's table (V7's {@code job_queue_queue},
 * through {@code job_queue_pause}/{@code job_queue_resume}): what {@code JobAdmin.pause}/{@code resume}
 * do. Every running worker (V7 or later) stops claiming from a paused queue within about a second
 * (at once when notifications are on); its jobs stay pending, enqueue keeps working, running jobs
 * finish. Thread-safe.
 */
final class QueueControl {

    private final JdbiJobStore store;

    QueueControl(JdbiJobStore store) {
        this.store = Check.notNull("store", store);
    }

    /**
     * Pauses {@code queue} for every worker.
     *
     * @return true if this call paused it, false if it was paused already
     * @throws dev.pgqueue.ValidationException if the queue name is invalid (nothing is changed)
     */
    boolean pause(String queue) {
        return store.queuePause(new QueuePauseParams(queue, true));
    }

    /**
     * Resumes {@code queue} for every worker and wakes them.
     *
     * @return true if this call resumed it, false if it was not paused
     * @throws dev.pgqueue.ValidationException if the queue name is invalid (nothing is changed)
     */
    boolean resume(String queue) {
        return store.queuePause(new QueuePauseParams(queue, false));
    }

    /** {@return the queues paused now} */
    Set<String> pausedQueues() {
        return store.queuePausedList();
    }
}
