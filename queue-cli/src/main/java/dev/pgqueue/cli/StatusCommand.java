package dev.pgqueue.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobCount;
import dev.pgqueue.admin.QueueStats;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code pgqueue status}: one row per queue with its jobs per status, oldest pending age and recent throughput. */
@Command(name = "status", description = "Every queue: jobs per status, oldest pending job, done and failed in the last 15 minutes, paused or not")
final class StatusCommand extends CliCommand {

    @Override
    public Integer call() {
        List<QueueStats> queues = admin().queueStats().stream()
                .sorted(Comparator.comparing(QueueStats::queue)).toList();
        if (json()) {
            ArrayNode array = Json.array();
            queues.forEach(q -> array.add(Json.queue(q)));
            Json.print(out(), array);
            return PgQueueCli.EXIT_OK;
        }
        if (queues.isEmpty()) {
            out().println("no queues: schema " + database().schema() + " holds no jobs and no paused queue");
            out().flush();
            return PgQueueCli.EXIT_OK;
        }
        Table table = new Table("QUEUE", "STATE", "WAITING>", "PENDING>", "RUNNING>", "COMPLETED>", "FAILED>",
                "CANCELLED>", "OLDEST PENDING>", "DONE 15M>", "FAILED 15M>");
        for (QueueStats q : queues) {
            table.row(q.queue(), q.paused() ? "paused" : "active", count(q, JobStatus.WAITING), count(q, JobStatus.PENDING),
                    q.running(), count(q, JobStatus.COMPLETED), count(q, JobStatus.FAILED), count(q, JobStatus.CANCELLED),
                    q.oldestPendingAge() == null || q.oldestPendingAge().isZero() ? "-" : Formats.age(q.oldestPendingAge()),
                    q.completedLast15m(), q.failedLast15m());
        }
        table.print(out());
        if (queues.stream().anyMatch(q -> q.counts().values().stream().anyMatch(c -> !c.isExact()))) {
            out().println("~ an estimate from PostgreSQL's planner statistics (a large table: finished jobs are not counted)");
        }
        return PgQueueCli.EXIT_OK;
    }

    /** {@code 1204}, or {@code ~915000} for a planner estimate (the finished totals of a large table). */
    private static String count(QueueStats q, JobStatus status) {
        JobCount count = q.counts().get(status);
        return count == null ? "0" : count.toString();
    }
}
