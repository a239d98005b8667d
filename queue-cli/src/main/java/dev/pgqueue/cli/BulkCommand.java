package dev.pgqueue.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.JobFilter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code retry}, {@code cancel} and {@code delete}: by id, by filter, or both (the jobs must match
 * both). Prints how many jobs changed; with {@code --dry-run}, how many would, changing nothing. A
 * command with neither ids nor a filter is refused unless {@code --all} says it means every job.
 * Unknown ids are an error, and then nothing changes.
 */
abstract class BulkCommand extends CliCommand {

    @Parameters(paramLabel = "ID", arity = "0..*", converter = Converters.JobId.class,
            description = "Ids of the jobs (optional when filters are given)")
    List<UUID> ids = new ArrayList<>();

    @Mixin
    FilterOptions filter;

    @Option(names = "--all", description = "Without ids or filters: every job the command applies to")
    boolean all;

    @Option(names = "--dry-run", description = "Print how many jobs would change, and change nothing")
    boolean dryRun;

    /** The verb, as the output says it ({@code retry}), and its past tense ({@code retried}). */
    private final String verb;
    private final String done;
    /** The statuses the action changes; a filter's other statuses match nothing. */
    private final Set<JobStatus> appliesTo;
    private final Action action;

    /** What the command does to the jobs a filter selects; returns how many changed. */
    interface Action {
        long apply(JobAdmin admin, JobFilter filter);
    }

    BulkCommand(String verb, String done, Set<JobStatus> appliesTo, Action action) {
        this.verb = verb;
        this.done = done;
        this.appliesTo = appliesTo;
        this.action = action;
    }

    @Override
    public Integer call() {
        if (ids.isEmpty() && !filter.isSet() && !all) {
            throw CliException.usage(verb + " needs job ids or at least one filter (--status, --queue, --type, --user, "
                    + "--error, --dedupe-prefix, --created-*, --finished-*), or --all for every job");
        }
        if (all && (!ids.isEmpty() || filter.isSet())) {
            throw CliException.usage("--all means every job: give it without ids and filters");
        }
        JobFilter jobs = filter.toFilter(ids);
        JobAdmin admin = admin();
        checkIdsExist(admin);
        long count;
        if (dryRun) {
            Set<JobStatus> statuses = FilterOptions.narrowed(jobs.statuses(), appliesTo);
            count = statuses.isEmpty() ? 0
                    : admin.count(jobs.toBuilder().statuses(statuses.toArray(JobStatus[]::new)).build());
        } else {
            count = action.apply(admin, jobs);
        }
        if (json()) {
            ObjectNode node = Json.object();
            node.put("action", verb);
            node.put("dryRun", dryRun);
            node.put("count", count);
            Json.print(out(), node);
        } else if (dryRun) {
            out().println("would " + verb + " " + jobs(count) + " (dry run: nothing changed)");
        } else {
            out().println(done + " " + jobs(count));
        }
        out().flush();
        return PgQueueCli.EXIT_OK;
    }

    private void checkIdsExist(JobAdmin admin) {
        if (ids.isEmpty()) {
            return;
        }
        List<UUID> distinct = ids.stream().distinct().toList();
        if (admin.count(JobFilter.ids(distinct.toArray(UUID[]::new))) == distinct.size()) {
            return;
        }
        List<String> missing = distinct.stream().filter(id -> admin.job(id).isEmpty()).map(UUID::toString).toList();
        throw CliException.error("no job with id " + String.join(", ", missing) + " in schema " + database().schema()
                + ": nothing was changed");
    }

    private static String jobs(long count) {
        return count + (count == 1 ? " job" : " jobs");
    }

    /** {@code pgqueue retry}. */
    @Command(name = "retry", description = "Make failed and cancelled jobs pending and due now (keeping their history)")
    static final class Retry extends BulkCommand {
        Retry() {
            super("retry", "retried", EnumSet.of(JobStatus.FAILED, JobStatus.CANCELLED), JobAdmin::retry);
        }
    }

    /** {@code pgqueue cancel}. */
    @Command(name = "cancel", description = "Cancel waiting and pending jobs, and ask running ones to stop")
    static final class Cancel extends BulkCommand {
        Cancel() {
            super("cancel", "cancelled", EnumSet.of(JobStatus.WAITING, JobStatus.PENDING, JobStatus.PROCESSING), JobAdmin::cancel);
        }
    }

    /** {@code pgqueue delete}. */
    @Command(name = "delete", description = "Delete jobs that are not processing")
    static final class Delete extends BulkCommand {
        Delete() {
            super("delete", "deleted", EnumSet.complementOf(EnumSet.of(JobStatus.PROCESSING)), JobAdmin::delete);
        }
    }
}
