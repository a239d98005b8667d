package dev.pgqueue.admin;

import dev.pgqueue.JobStatus;
import dev.pgqueue.ValidationException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;

/**
 * Which jobs an admin operation applies to. Immutable; every criterion left unset matches every job,
 * and the criteria that are set must all match. Build with {@link #builder()}, or use
 * {@link #all()} and {@link #ids(UUID...)}:
 *
 * <pre>{@code
 * JobFilter.builder().statuses(JobStatus.FAILED).queues("images").errorContains("timeout").build()
 * JobFilter.ids(jobId)
 * }</pre>
 *
 * <p>Values are bound as query parameters, never interpolated, and matched literally ({@code %},
 * {@code _} and backslashes are plain characters). {@link #errorContains} is a case-insensitive
 * substring match; {@link #errorFirstLine} an exact match of the error's first line;
 * {@link #dedupeKeyPrefix} a prefix match.
 */
public final class JobFilter {

    private final Set<UUID> ids;
    private final Set<JobStatus> statuses;
    private final Set<String> queues;
    private final Set<String> types;
    private final Instant createdAfter;
    private final Instant createdBefore;
    private final Instant finishedAfter;
    private final Instant finishedBefore;
    private final UUID userId;
    private final String errorContains;
    private final String errorFirstLine;
    private final String dedupeKeyPrefix;

    private JobFilter(Builder b) {
        ids = Set.copyOf(b.ids);
        statuses = Set.copyOf(b.statuses);
        queues = Set.copyOf(b.queues);
        types = Set.copyOf(b.types);
        createdAfter = b.createdAfter;
        createdBefore = b.createdBefore;
        finishedAfter = b.finishedAfter;
        finishedBefore = b.finishedBefore;
        userId = b.userId;
        errorContains = b.errorContains;
        errorFirstLine = b.errorFirstLine;
        dedupeKeyPrefix = b.dedupeKeyPrefix;
    }

    /** {@return a filter that matches every job} */
    public static JobFilter all() {
        return builder().build();
    }

    /**
     * {@return a filter that matches the jobs with these ids}
     *
     * @param ids the jobs' ids; at least one
     * @throws ValidationException if no id is given
     */
    public static JobFilter ids(UUID... ids) {
        if (ids == null || ids.length == 0) {
            // An empty id set matches every job: never what "these jobs" means.
            throw new ValidationException("ids", "at least one job id", ids == null ? null : "none");
        }
        return builder().ids(ids).build();
    }

    /** {@return a builder with no criteria set} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder starting from this filter's criteria} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.ids = Set.copyOf(ids);
        b.statuses = Set.copyOf(statuses);
        b.queues = Set.copyOf(queues);
        b.types = Set.copyOf(types);
        b.createdAfter = createdAfter;
        b.createdBefore = createdBefore;
        b.finishedAfter = finishedAfter;
        b.finishedBefore = finishedBefore;
        b.userId = userId;
        b.errorContains = errorContains;
        b.errorFirstLine = errorFirstLine;
        b.dedupeKeyPrefix = dedupeKeyPrefix;
        return b;
    }

    /** {@return the ids matched, or empty for any} */
    public Set<UUID> ids() { return ids; }

    /** {@return the statuses matched, or empty for any} */
    public Set<JobStatus> statuses() { return statuses; }

    /** {@return the queues matched, or empty for any} */
    public Set<String> queues() { return queues; }

    /** {@return the job types matched, or empty for any} */
    public Set<String> types() { return types; }

    /** {@return the earliest creation time matched (inclusive), or null} */
    public Instant createdAfter() { return createdAfter; }

    /** {@return the creation time before which jobs match (exclusive), or null} */
    public Instant createdBefore() { return createdBefore; }

    /** {@return the earliest finish time matched (inclusive), or null; set, it matches only finished jobs} */
    public Instant finishedAfter() { return finishedAfter; }

    /** {@return the finish time before which jobs match (exclusive), or null; set, it matches only finished jobs} */
    public Instant finishedBefore() { return finishedBefore; }

    /** {@return the user id matched, or null for any} */
    public UUID userId() { return userId; }

    /** {@return the text the error message must contain (case-insensitive), or null} */
    public String errorContains() { return errorContains; }

    /**
     * {@return the exact first line the error message must have (the empty string matches jobs without
     * an error message), or null} What {@link FailureGroup#filter()} sets, so that it selects exactly
     * its group's jobs.
     */
    public String errorFirstLine() { return errorFirstLine; }

    /** {@return the prefix the dedupe key must start with, or null} */
    public String dedupeKeyPrefix() { return dedupeKeyPrefix; }

    /** Builds a {@link JobFilter}; each setter replaces what it set before. Not thread-safe. */
    public static final class Builder {
        private Set<UUID> ids = Set.of();
        private Set<JobStatus> statuses = Set.of();
        private Set<String> queues = Set.of();
        private Set<String> types = Set.of();
        private Instant createdAfter;
        private Instant createdBefore;
        private Instant finishedAfter;
        private Instant finishedBefore;
        private UUID userId;
        private String errorContains;
        private String errorFirstLine;
        private String dedupeKeyPrefix;

        private Builder() {}

        /**
         * @param ids the job ids to match
         * @return this builder
         */
        public Builder ids(UUID... ids) { this.ids = copy("ids", ids); return this; }

        /**
         * @param statuses the statuses to match
         * @return this builder
         */
        public Builder statuses(JobStatus... statuses) { this.statuses = copy("statuses", statuses); return this; }

        /**
         * @param queues the queues to match
         * @return this builder
         */
        public Builder queues(String... queues) { this.queues = copy("queues", queues); return this; }

        /**
         * @param types the job type names to match
         * @return this builder
         */
        public Builder types(String... types) { this.types = copy("types", types); return this; }

        /**
         * @param after  earliest creation time (inclusive), or null
         * @param before creation time before which jobs match (exclusive), or null
         * @return this builder
         */
        public Builder created(Instant after, Instant before) {
            this.createdAfter = after;
            this.createdBefore = before;
            return this;
        }

        /**
         * @param after  earliest finish time (inclusive), or null
         * @param before finish time before which jobs match (exclusive), or null
         * @return this builder
         */
        public Builder finished(Instant after, Instant before) {
            this.finishedAfter = after;
            this.finishedBefore = before;
            return this;
        }

        /**
         * @param userId the user id to match, or null for any
         * @return this builder
         */
        public Builder userId(UUID userId) { this.userId = userId; return this; }

        /**
         * @param text text the error message must contain (case-insensitive), or null
         * @return this builder
         */
        public Builder errorContains(String text) { this.errorContains = text; return this; }

        /**
         * @param line the exact first line of the error message (up to its first line break; the empty
         *             string matches jobs without an error message), or null for any
         * @return this builder
         */
        public Builder errorFirstLine(String line) { this.errorFirstLine = line; return this; }

        /**
         * @param prefix prefix the dedupe key must start with, or null
         * @return this builder
         */
        public Builder dedupeKeyPrefix(String prefix) { this.dedupeKeyPrefix = prefix; return this; }

        /** A set of the values, duplicates allowed; a null array or element is refused. */
        @SafeVarargs
        private static <T> Set<T> copy(String field, T... values) {
            if (values == null || Arrays.asList(values).contains(null)) {
                throw new ValidationException(field, "non-null values", values == null ? null : Arrays.toString(values));
            }
            return Set.copyOf(Arrays.asList(values));
        }

        /** {@return the filter} */
        public JobFilter build() {
            return new JobFilter(this);
        }
    }
}
