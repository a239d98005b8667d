package dev.pgqueue.internal;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobStatus;
import dev.pgqueue.Schedule;
import dev.pgqueue.ValidationException;
import dev.pgqueue.spi.JobStore.NewJob;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * A recurring job as registered on a worker, validated, its payload already JSON. Each tick becomes
 * one job whose dedupe key is {@code recurring:<name>@<tick in UTC>} and whose uniqueness holds in
 * every status: that key is what makes a tick enqueued at most once however many workers try.
 *
 * @param name        the schedule's stable name, unique per worker (same rule as job type names)
 * @param type        the job type's name
 * @param payloadJson the payload of every tick's job
 * @param options     queue, priority, max retries, user and partition key of every tick's job
 */
public record RecurringJob(String name, String type, String payloadJson, EnqueueOptions options, Schedule schedule) {

    /** Fixed width and UTC, so that the keys of one schedule sort by tick in code point order. */
    private static final DateTimeFormatter TICK = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);
    /** A tick's job stays unique in every status, so a finished tick is never enqueued again. */
    private static final Set<JobStatus> EVERY_STATUS = EnumSet.allOf(JobStatus.class);

    /**
     * Checks a registration's name and options (the schedule decides due time and uniqueness).
     *
     * @throws ValidationException if the name breaks the job type name rule, or {@code options} set a
     *     due time, delay, dedupe key or uniqueness
     */
    public static void checkRegistration(String name, EnqueueOptions options) {
        Check.jobType("recurring job name", name);
        Check.notNull("options", options);
        if (options.runAt() != null || !options.delay().isZero()) {
            throw new ValidationException("options of recurring job " + name,
                    "without runAt or delay (each tick's job is due at its tick)", options);
        }
        if (options.dedupeKey() != null || options.uniqueness() != null) {
            throw new ValidationException("options of recurring job " + name,
                    "without dedupeKey or uniqueness (the tick is the key)", options);
        }
        if (!options.dependsOn().isEmpty() || options.onDependencyFailure() != null) {
            throw new ValidationException("options of recurring job " + name,
                    "without dependsOn or onDependencyFailure (every tick would wait for the same jobs)", options);
        }
    }

    /** What every dedupe key of this schedule starts with. */
    public String keyPrefix() {
        return "recurring:" + name + "@";
    }

    public String key(Instant tick) {
        return keyPrefix() + TICK.format(tick);
    }

    /** The tick a dedupe key of this schedule stands for; empty if the key is not one of ours. */
    public Optional<Instant> tickOf(String key) {
        if (key == null || !key.startsWith(keyPrefix())) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(key.substring(keyPrefix().length())));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The job for {@code tick}: due at the tick, unique by its key in every status. */
    public NewJob jobFor(Instant tick) {
        NewJob.Builder job = NewJob.builder(UuidV7.next(), type, payloadJson).queue(options.queue())
                .priority(options.priority()).runAt(tick).userId(options.userId()).dedupeKey(key(tick))
                .uniqueStates(EVERY_STATUS).partitionKey(options.partitionKey());
        options.maxRetries().ifPresent(job::maxRetries);
        return job.build();
    }
}
