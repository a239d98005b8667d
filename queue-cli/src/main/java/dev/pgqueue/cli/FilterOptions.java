package dev.pgqueue.cli;

import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobFilter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The job filter options ({@code --status}, {@code --queue}, {@code --type}, {@code --user},
 * {@code --error}, {@code --dedupe-prefix}, {@code --created-after/-before},
 * {@code --finished-after/-before}), turned into the admin API's {@link JobFilter}. Every value is
 * passed on as data, which the admin API binds as a query parameter; none is ever part of SQL text.
 */
final class FilterOptions {

    @Option(names = "--status", split = ",", paramLabel = "<status>", converter = StatusConverter.class,
            description = "Jobs in these statuses: waiting, pending, processing, completed, failed, cancelled (comma-separated or repeated)")
    List<JobStatus> statuses = new ArrayList<>();

    @Option(names = "--queue", split = ",", paramLabel = "<queue>", description = "Jobs in these queues")
    List<String> queues = new ArrayList<>();

    @Option(names = "--type", split = ",", paramLabel = "<type>", description = "Jobs of these job types")
    List<String> types = new ArrayList<>();

    @Option(names = "--user", paramLabel = "<uuid>", converter = Converters.JobId.class,
            description = "Jobs of this user_id")
    UUID userId;

    @Option(names = "--error", paramLabel = "<text>",
            description = "Jobs whose error message contains this text (case-insensitive)")
    String errorContains;

    @Option(names = "--dedupe-prefix", paramLabel = "<prefix>", description = "Jobs whose dedupe key starts with this")
    String dedupeKeyPrefix;

    @Option(names = "--created-after", paramLabel = "<time>", converter = Converters.Time.class,
            description = "Created at or after: 2026-01-31T12:00:00Z, 2026-01-31 (UTC) or an age (90s, 15m, 2h, 7d)")
    Instant createdAfter;

    @Option(names = "--created-before", paramLabel = "<time>", converter = Converters.Time.class,
            description = "Created before (same forms)")
    Instant createdBefore;

    @Option(names = "--finished-after", paramLabel = "<time>", converter = Converters.Time.class,
            description = "Finished (completed, failed or cancelled) at or after (same forms)")
    Instant finishedAfter;

    @Option(names = "--finished-before", paramLabel = "<time>", converter = Converters.Time.class,
            description = "Finished before (same forms)")
    Instant finishedBefore;

    /** Whether any criterion is set. */
    boolean isSet() {
        return !statuses.isEmpty() || !queues.isEmpty() || !types.isEmpty() || userId != null || errorContains != null
                || dedupeKeyPrefix != null || createdAfter != null || createdBefore != null || finishedAfter != null
                || finishedBefore != null;
    }

    /**
     * The filter: these options, and the ids if any are given.
     *
     * @throws CliException (usage) for an empty value or a time range that ends before it starts
     */
    JobFilter toFilter(List<UUID> ids) {
        nonEmpty("--queue", queues);
        nonEmpty("--type", types);
        if (errorContains != null && errorContains.isEmpty()) {
            throw CliException.usage("expected --error to be a non-empty text, got an empty one");
        }
        if (dedupeKeyPrefix != null && dedupeKeyPrefix.isEmpty()) {
            throw CliException.usage("expected --dedupe-prefix to be a non-empty text, got an empty one");
        }
        range("--created", createdAfter, createdBefore);
        range("--finished", finishedAfter, finishedBefore);
        JobFilter.Builder filter = JobFilter.builder()
                .statuses(statuses.toArray(JobStatus[]::new))
                .queues(distinct(queues))
                .types(distinct(types))
                .userId(userId)
                .errorContains(errorContains)
                .dedupeKeyPrefix(dedupeKeyPrefix)
                .created(createdAfter, createdBefore)
                .finished(finishedAfter, finishedBefore);
        if (!ids.isEmpty()) {
            filter.ids(ids.stream().distinct().toArray(UUID[]::new));
        }
        return filter.build();
    }

    private static void nonEmpty(String option, List<String> values) {
        if (values.stream().anyMatch(String::isEmpty)) {
            throw CliException.usage("expected " + option + " to name one or more, got an empty name");
        }
    }

    private static void range(String option, Instant after, Instant before) {
        if (after != null && before != null && !after.isBefore(before)) {
            throw CliException.usage("expected " + option + "-after to be before " + option + "-before, got: "
                    + after + " and " + before);
        }
    }

    private static String[] distinct(List<String> values) {
        return values.stream().distinct().toArray(String[]::new);
    }

    /** A status as the SQL contract spells it, in any case. */
    static final class StatusConverter implements ITypeConverter<JobStatus> {
        static final String NAMES = Arrays.stream(JobStatus.values()).map(JobStatus::sqlValue)
                .collect(Collectors.joining(", "));

        @Override
        public JobStatus convert(String value) {
            for (JobStatus status : JobStatus.values()) {
                if (status.sqlValue().equals(value.toLowerCase(Locale.ROOT))) {
                    return status;
                }
            }
            throw new TypeConversionException("expected one of " + NAMES + ", got: " + OneLine.of(value));
        }
    }

    /** {@code statuses} narrowed to those an action applies to; all of {@code applies} when none is given. */
    static Set<JobStatus> narrowed(Set<JobStatus> statuses, Set<JobStatus> applies) {
        if (statuses.isEmpty()) {
            return applies;
        }
        EnumSet<JobStatus> both = EnumSet.noneOf(JobStatus.class);
        both.addAll(statuses);
        both.retainAll(applies);
        return both;
    }
}
