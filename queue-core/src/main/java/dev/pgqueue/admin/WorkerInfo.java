package dev.pgqueue.admin;

import java.time.Instant;
import java.util.Map;

/**
 * A worker as it registered itself, from {@link JobAdmin#workers()}.
 *
 * @param id            the worker's id ({@link dev.pgqueue.Worker#workerId()})
 * @param host          the host it runs on
 * @param pid           its process id
 * @param queues        the queues it serves, with its concurrency for each
 * @param version       the pgqueue version it runs
 * @param startedAt     when it started
 * @param lastHeartbeat when it last said it was alive
 * @param running       jobs it was running at its last heartbeat
 */
public record WorkerInfo(String id, String host, long pid, Map<String, Integer> queues, String version,
        Instant startedAt, Instant lastHeartbeat, int running) {

    /**
     * @param id            the worker's id
     * @param host          its host
     * @param pid           its process id
     * @param queues        its queues and concurrency
     * @param version       its pgqueue version
     * @param startedAt     when it started
     * @param lastHeartbeat its last heartbeat
     * @param running       jobs running at its last heartbeat
     */
    public WorkerInfo {
        queues = Map.copyOf(queues);
    }
}
