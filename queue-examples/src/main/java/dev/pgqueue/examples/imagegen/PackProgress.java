package dev.pgqueue.examples.imagegen;

import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * The fan-in of a pack: the last generate-image job of a project, and only that one, marks the
 * project COMPLETED, even when the last two finish at the same moment on different workers.
 *
 * <p><b>The idiom.</b> In the same transaction as the job's completion (a transactional handler),
 * decrement a per-project counter with one {@code UPDATE … RETURNING}. The UPDATE takes the
 * project row's lock, so concurrent finishers queue up behind one another, and each sees the
 * value that the one before it committed: exactly one of them sees zero. If a transaction rolls
 * back (its worker died, or lost its lease), its decrement rolls back with its job's completion,
 * and the job runs again; so the counter reaches zero once, when every job has completed once.
 *
 * <p><b>Why not count finished assets instead?</b> Under READ COMMITTED, two transactions that
 * finish the last two images each see the other's asset as unfinished (not yet committed), so
 * neither completes the project; with a re-check after commit, both might. The counter row
 * serializes them.
 *
 * <p>A later pgqueue release is to move fan-in into the library as workflow support; until then
 * this class is the whole of it.
 */
final class PackProgress {

    private PackProgress() {}

    /**
     * Counts one generate-image job of the project's pack as done, in {@code handle}'s transaction,
     * and completes the project if it was the last one.
     *
     * @return whether this call completed the project
     */
    static boolean imageDone(Handle handle, UUID projectId) {
        Optional<Integer> remaining = handle.createQuery("""
                        UPDATE projects SET images_remaining = images_remaining - 1, updated_at = now()
                         WHERE id = :id AND status = 'PROCESSING'
                        RETURNING images_remaining""")
                .bind("id", projectId)
                .mapTo(Integer.class)
                .findOne(); // empty when the pack already failed: then there is nothing to complete
        if (remaining.isEmpty() || remaining.get() > 0) {
            return false;
        }
        // Still in the transaction that took the row lock: no other finisher can be here for this project.
        handle.createUpdate("UPDATE projects SET status = 'COMPLETED', updated_at = now() WHERE id = :id")
                .bind("id", projectId)
                .execute();
        return true;
    }

    /**
     * Fails the project's pack with {@code reason}, in {@code handle}'s transaction, unless it has
     * already ended. Two images failing at once are serialized by the row lock like
     * {@link #imageDone}: the second finds the project FAILED and changes nothing.
     *
     * @return whether this call failed the project
     */
    static boolean packFailed(Handle handle, UUID projectId, String reason) {
        return handle.createUpdate("""
                        UPDATE projects SET status = 'FAILED', failure_reason = :reason, updated_at = now()
                         WHERE id = :id AND status IN ('DRAFT', 'PENDING', 'PROCESSING')""")
                .bind("id", projectId)
                .bind("reason", reason)
                .execute() == 1;
    }
}
