package dev.pgqueue.chaos;

import java.time.Duration;

/**
 * How big a chaos run is and which faults it injects. The faults are spread over the time the
 * producer enqueues, so that every fault hits a queue under load.
 *
 * @param jobs            jobs enqueued (N)
 * @param workers         worker JVMs running at once (K)
 * @param kills           workers killed with SIGKILL, each replaced at once
 * @param connectionDrops times every connection of every worker is terminated by the server
 * @param crashes         times the server is crashed ({@code pg_ctl restart -m immediate})
 * @param pauses          times a worker is paused (SIGSTOP) past its lease, then resumed
 * @param produceFor      how long the producer takes to enqueue all jobs
 * @param drainTimeout    how long to wait, after the last fault, for every job to be final
 */
public record ChaosConfig(
        String name,
        int jobs,
        int workers,
        int kills,
        int connectionDrops,
        int crashes,
        int pauses,
        Duration produceFor,
        Duration drainTimeout) {

    /** What {@code mvn -B verify} runs: about a minute. */
    public static final ChaosConfig CI = new ChaosConfig(
            "ci", 2_000, 3, 2, 1, 1, 1, Duration.ofSeconds(30), Duration.ofSeconds(120));

    /** The documented full run (README, "Guarantees"). */
    public static final ChaosConfig FULL = new ChaosConfig(
            "full", 50_000, 4, 24, 2, 2, 2, Duration.ofMinutes(5), Duration.ofMinutes(10));

    public static ChaosConfig named(String name) {
        return switch (name) {
            case "ci" -> CI;
            case "full" -> FULL;
            default -> throw new IllegalArgumentException("expected chaos scale to be ci or full, got: " + name);
        };
    }
}
