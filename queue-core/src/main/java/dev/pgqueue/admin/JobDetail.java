package dev.pgqueue.admin;

import dev.pgqueue.JobSnapshot;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One job as {@link JobAdmin#job} shows it to an operator.
 *
 * @param job          the job's row
 * @param attempts     its attempt history, oldest first: each failure, retry, cancel and payload edit
 * @param dependsOn    the jobs it waits for (a workflow's edges into it)
 * @param dependents   the jobs waiting for it
 * @param traceContext the W3C trace context its producer enqueued it in ({@code traceparent},
 *                     {@code tracestate}), or empty
 */
public record JobDetail(
        JobSnapshot job,
        List<AttemptRecord> attempts,
        List<UUID> dependsOn,
        List<UUID> dependents,
        Map<String, String> traceContext) {

    /**
     * @param job          the job's row
     * @param attempts     its attempt history, oldest first
     * @param dependsOn    the jobs it waits for
     * @param dependents   the jobs waiting for it
     * @param traceContext its trace context, or empty
     */
    public JobDetail {
        attempts = List.copyOf(attempts);
        dependsOn = List.copyOf(dependsOn);
        dependents = List.copyOf(dependents);
        traceContext = Map.copyOf(traceContext);
    }
}
