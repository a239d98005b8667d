package dev.pgqueue.jdbi;

import dev.pgqueue.spi.JobStore.ClaimedJob;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Two claims of one store at once, made deterministic: A's in a claim transaction on its own connection,
 * then B's on another thread while A still holds its locks; then A commits, and the claim transaction
 * ends (handing back to the floors what A locked and left), as when two workers of one store claim the
 * same queue.
 */
final class ConcurrentClaims {

    private ConcurrentClaims() {}

    /** One claim, on a connection of its own. */
    interface Claim {
        List<ClaimedJob> run() throws SQLException;
    }

    /** The ids each claim took. */
    record Taken(List<UUID> byA, List<UUID> byB) {}

    static Taken whileAHoldsItsLocks(JobStatements statements, Connection a, Claim claimA, Claim claimB) throws SQLException {
        ExecutorService threadB = Executors.newSingleThreadExecutor();
        try {
            List<UUID> byB = new ArrayList<>();
            List<UUID> byA = statements.claimTransaction(() -> {
                a.setAutoCommit(false);
                try {
                    List<UUID> taken = ids(claimA.run());
                    byB.addAll(ids(threadB.submit(claimB::run).get()));
                    a.commit();
                    return taken;
                } catch (InterruptedException | ExecutionException e) {
                    throw new IllegalStateException(e);
                } finally {
                    a.setAutoCommit(true);
                }
            });
            return new Taken(byA, byB);
        } finally {
            threadB.shutdownNow();
        }
    }

    private static List<UUID> ids(List<ClaimedJob> jobs) {
        return jobs.stream().map(ClaimedJob::id).toList();
    }
}
