package dev.pgqueue.examples.imagegen;

/** {@code projects.status}; see schema.sql for the transitions. */
public enum ProjectStatus {
    /** Created; images can be added. */
    DRAFT,
    /** "Generate" was pressed: the generate-complete-pack job is queued. */
    PENDING,
    /** The pack's generate-image jobs are running; its finish-pack job waits for them. */
    PROCESSING,
    /** Every asset of the pack is done (set by finish-pack). Final. */
    COMPLETED,
    /**
     * An image failed for good (set by finish-pack), or there was nothing to generate;
     * {@code failure_reason} says why. Final.
     */
    FAILED;

    /** Whether the pack has ended. */
    public boolean isFinal() {
        return this == COMPLETED || this == FAILED;
    }
}
