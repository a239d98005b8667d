package dev.pgqueue.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.admin.AttemptRecord;
import dev.pgqueue.admin.JobDetail;
import java.io.PrintWriter;
import java.util.UUID;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pgqueue job show ID}: one job with its payload, result, progress, attempt history and workflow edges. */
@Command(name = "job", description = "One job", subcommands = JobCommand.Show.class)
final class JobCommand extends CliCommand {

    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing a command: job show ID");
    }

    /** {@code job show ID}. */
    @Command(name = "show", description = "A job's row, payload, result, progress, attempt history and workflow edges")
    static final class Show extends CliCommand {

        @Parameters(paramLabel = "ID", description = "The job's id", converter = Converters.JobId.class)
        UUID id;

        @Override
        public Integer call() {
            JobDetail detail = admin().job(id).orElseThrow(() -> CliException.error(
                    "no job with id " + id + " in schema " + database().schema()));
            if (json()) {
                Json.print(out(), Json.detail(detail));
                return PgQueueCli.EXIT_OK;
            }
            PrintWriter out = out();
            JobSnapshot job = detail.job();
            field(out, "id", job.id());
            field(out, "type", job.type());
            field(out, "queue", job.queue());
            field(out, "status", job.status().sqlValue());
            field(out, "priority", job.priority());
            field(out, "attempt", job.attempt() + " (retries " + job.retryCount() + " of " + job.maxRetries() + ")");
            field(out, "created", Formats.instant(job.createdAt()));
            field(out, "run at", Formats.instant(job.runAt()));
            field(out, "started", Formats.instant(job.processedAt()));
            field(out, "finished", Formats.instant(job.completedAt()));
            field(out, "user", job.userId());
            field(out, "dedupe key", job.dedupeKey());
            if (job.progress() != null) {
                field(out, "progress", job.progress().percent() + "%"
                        + (job.progress().message() != null ? " " + job.progress().message() : "")
                        + " (" + Formats.instant(job.progress().reportedAt()) + ")");
            }
            if (!detail.dependsOn().isEmpty()) {
                field(out, "waits for", detail.dependsOn().stream().map(UUID::toString).collect(Collectors.joining(", ")));
            }
            if (!detail.dependents().isEmpty()) {
                field(out, "awaited by", detail.dependents().stream().map(UUID::toString).collect(Collectors.joining(", ")));
            }
            detail.traceContext().forEach((key, value) -> field(out, key, value));
            block(out, "payload", pretty(job.payloadJson()));
            if (job.resultJson() != null) {
                block(out, "result", pretty(job.resultJson()));
            }
            if (job.errorMessage() != null) {
                block(out, "error", job.errorMessage());
            }
            if (!detail.attempts().isEmpty()) {
                out.println();
                out.println("attempts:");
                Table table = new Table("ATTEMPT>", "AT", "KIND", "WORKER", "MESSAGE");
                for (AttemptRecord a : detail.attempts()) {
                    table.row(a.attempt(), Formats.instant(a.at()), a.kind(), a.worker(), a.message());
                }
                table.print(out);
            }
            out.flush();
            return PgQueueCli.EXIT_OK;
        }

        private static void field(PrintWriter out, String name, Object value) {
            out.printf("%-11s %s%n", name + ":", value == null ? "-" : OneLine.of(value.toString()));
        }

        private static void block(PrintWriter out, String name, String text) {
            out.println();
            out.println(name + ":");
            OneLine.Safe.text(text).lines().forEach(line -> out.println("  " + line));
        }

        private static String pretty(String json) {
            try {
                return Json.MAPPER.writeValueAsString(Json.MAPPER.readTree(json));
            } catch (JsonProcessingException e) {
                return json;
            }
        }
    }
}
