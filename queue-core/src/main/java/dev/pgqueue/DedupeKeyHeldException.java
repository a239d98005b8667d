package dev.pgqueue;

/**
 * A job could not be enqueued because its dedupe key is held by a job the enqueuing role cannot see:
 * row-level security hides it (the optional roles script lets each producer read only the jobs it
 * enqueued). Dedupe keys are unique per job type across the whole schema, whoever enqueued the job
 * holding them, so another producer's job can hold this producer's key. Trying again does not help
 * while that job holds the key; use keys no other producer uses (e.g. prefixed with the producer's
 * name). Nothing was written.
 */
public final class DedupeKeyHeldException extends PgQueueException {

    /** The type of the job that was not enqueued. */
    private final String jobType;
    /** The key held by the hidden job. */
    private final String dedupeKey;

    /**
     * A hidden job of {@code jobType} holds {@code dedupeKey}.
     *
     * @param jobType the type of the job that was not enqueued
     * @param dedupeKey the key held
     */
    public DedupeKeyHeldException(String jobType, String dedupeKey) {
        super("could not enqueue job " + jobType + " with dedupe key \"" + shown(dedupeKey)
                + "\": the key is held by a job this role cannot see (row-level security hides it); dedupe keys are"
                + " unique per job type across the schema, whoever enqueued the job holding them, so trying again"
                + " does not help: use keys no other producer uses");
        this.jobType = jobType;
        this.dedupeKey = dedupeKey;
    }

    /** {@return the type of the job that was not enqueued} */
    public String jobType() {
        return jobType;
    }

    /** {@return the key held by the hidden job} */
    public String dedupeKey() {
        return dedupeKey;
    }

    private static String shown(String key) {
        return key.length() > 80 ? key.substring(0, 80) + "… (" + key.length() + " chars)" : key;
    }
}
