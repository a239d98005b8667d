package dev.pgqueue.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgqueue.admin.JobAdmin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pause QUEUE} and {@code resume QUEUE}: for every worker, within about a second. */
abstract class QueueCommand extends CliCommand {

    @Parameters(paramLabel = "QUEUE", description = "The queue's name")
    String queue;

    abstract boolean pause();

    @Override
    public Integer call() {
        if (queue.isBlank()) {
            throw CliException.usage("expected QUEUE to be a queue's name, got an empty one");
        }
        JobAdmin admin = admin();
        if (pause()) {
            admin.pause(queue);
        } else {
            admin.resume(queue);
        }
        if (json()) {
            ObjectNode node = Json.object();
            node.put("queue", queue);
            node.put("paused", pause());
            Json.print(out(), node);
        } else {
            out().println((pause() ? "paused queue " : "resumed queue ") + OneLine.of(queue));
            out().flush();
        }
        return PgQueueCli.EXIT_OK;
    }

    /** {@code pgqueue pause QUEUE}. */
    @Command(name = "pause", description = "Pause a queue for every worker: no claims from it; enqueue and running jobs go on")
    static final class Pause extends QueueCommand {
        @Override
        boolean pause() {
            return true;
        }
    }

    /** {@code pgqueue resume QUEUE}. */
    @Command(name = "resume", description = "Resume a paused queue for every worker")
    static final class Resume extends QueueCommand {
        @Override
        boolean pause() {
            return false;
        }
    }
}
