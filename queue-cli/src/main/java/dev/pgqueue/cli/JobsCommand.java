package dev.pgqueue.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.admin.JobPage;
import dev.pgqueue.admin.Page;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pgqueue jobs list}: one page of the jobs a filter matches, newest first, with the next page's cursor. */
@Command(name = "jobs", description = "Find jobs", subcommands = JobsCommand.ListJobs.class)
final class JobsCommand extends CliCommand {

    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing a command: jobs list");
    }

    /** {@code jobs list [filters] [--limit n] [--cursor c] [--oldest-first]}. */
    @Command(name = "list", description = "One page of the jobs the filters match (all jobs without filters), newest first")
    static final class ListJobs extends CliCommand {

        @Mixin
        FilterOptions filter;

        @Option(names = "--limit", paramLabel = "<n>", description = "Most jobs on the page, 1 to " + Page.MAX_LIMIT + " (default: 50)")
        int limit = 50;

        @Option(names = "--cursor", paramLabel = "<cursor>", description = "The cursor printed under the previous page")
        String cursor;

        @Option(names = "--oldest-first", description = "Oldest first instead of newest first")
        boolean oldestFirst;

        @Override
        public Integer call() {
            if (limit < 1 || limit > Page.MAX_LIMIT) {
                throw CliException.usage("expected --limit to be 1 to " + Page.MAX_LIMIT + ", got: " + limit);
            }
            if (cursor != null && cursor.isBlank()) {
                throw CliException.usage("expected --cursor to be the cursor printed under a page, got an empty one");
            }
            Page page = new Page(limit, oldestFirst ? Page.Order.OLDEST_FIRST : Page.Order.NEWEST_FIRST, cursor);
            JobPage jobs = admin().find(filter.toFilter(List.of()), page);
            if (json()) {
                ObjectNode node = Json.object();
                ArrayNode array = node.putArray("jobs");
                jobs.jobs().forEach(job -> array.add(Json.job(job)));
                node.put("nextCursor", jobs.nextCursor());
                Json.print(out(), node);
                return PgQueueCli.EXIT_OK;
            }
            if (jobs.jobs().isEmpty()) {
                out().println("no jobs match");
                out().flush();
                return PgQueueCli.EXIT_OK;
            }
            Table table = new Table("ID", "TYPE", "QUEUE", "STATUS", "ATTEMPT>", "CREATED", "RUN AT", "ERROR");
            for (JobSnapshot job : jobs.jobs()) {
                table.row(job.id(), job.type(), job.queue(), job.status().sqlValue(),
                        job.attempt() + "/" + (job.maxRetries() + 1), Formats.instant(job.createdAt()),
                        Formats.instant(job.runAt()), job.errorMessage());
            }
            table.print(out());
            jobs.next().ifPresent(next -> out().println("next page: --cursor " + next));
            out().flush();
            return PgQueueCli.EXIT_OK;
        }
    }
}
