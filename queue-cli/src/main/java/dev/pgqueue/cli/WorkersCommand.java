package dev.pgqueue.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.pgqueue.admin.WorkerInfo;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;

/** {@code pgqueue workers}: the workers registered as alive, newest first. */
@Command(name = "workers", description = "The live workers: host, pid, queues and concurrency, running jobs, last heartbeat")
final class WorkersCommand extends CliCommand {

    @Override
    public Integer call() {
        List<WorkerInfo> workers = admin().workers();
        if (json()) {
            ArrayNode array = Json.array();
            workers.forEach(w -> array.add(Json.worker(w)));
            Json.print(out(), array);
            return PgQueueCli.EXIT_OK;
        }
        if (workers.isEmpty()) {
            out().println("no live workers");
            out().flush();
            return PgQueueCli.EXIT_OK;
        }
        Instant now = Instant.now();
        Table table = new Table("ID", "HOST", "PID>", "QUEUES", "RUNNING>", "STARTED", "HEARTBEAT", "VERSION");
        for (WorkerInfo w : workers) {
            String queues = w.queues().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
            table.row(w.id(), w.host(), w.pid(), queues, w.running(), Formats.instant(w.startedAt()),
                    Formats.ago(w.lastHeartbeat(), now), w.version());
        }
        table.print(out());
        return PgQueueCli.EXIT_OK;
    }
}
