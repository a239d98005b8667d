package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Every statement a store sends while a held-back xmin horizon bounds its claims (issue 18), in one
 * transaction of the caller's: a claim past the claim floor, its sweep and the claim by id of what the
 * sweep found; a fair queue's claim past each key's floor and its sweep, which moves a floor back before
 * a new job. The floors are put in the bounded state by hand, as {@link ClaimPastFloorTest} does; the
 * sweeps run inline, on the claim's connection, so that an error fails the caller's test instead of
 * being logged by a sweep thread. For the tests of who may run them and what they call.
 */
final class BoundedClaims {

    /** A step on the caller's connection: switching to the role that claims, and back. */
    @FunctionalInterface
    interface Step {
        void run() throws SQLException;
    }

    private static final Set<String> TYPES = Set.of("work");
    private static final long SECOND = 1_000_000_000L;

    private final String schema;
    private final Step asClaimer;
    private final Step asCaller;

    /**
     * @param schema    the queue's schema, migrated
     * @param asClaimer switches the connection to the role that claims (run before each claim)
     * @param asCaller  switches it back to the connection's own role, which inserts the jobs and the policy
     */
    BoundedClaims(String schema, Step asClaimer, Step asCaller) {
        this.schema = schema;
        this.asClaimer = asClaimer;
        this.asCaller = asCaller;
    }

    /** Runs the claims on {@code c}, in its transaction (autocommit off), which the caller rolls back. */
    void run(Connection c) throws SQLException {
        assertThat(c.getAutoCommit()).as("runs in the caller's transaction").isFalse();
        try (Statement st = c.createStatement()) {
            // Names only pg_catalog's functions and exact operators: SearchPathHijackTest runs it among decoys.
            st.executeUpdate("INSERT INTO " + schema + ".job_queue (job_type, queue, run_at, partition_key)"
                    + " SELECT 'work', q.name, pg_catalog.now() - interval '1 hour' + CAST(g AS double precision) * interval '1 ms',"
                    + " CASE WHEN q.name = 'bounded_fair' THEN CASE WHEN g % 2 = 0 THEN 'k0' ELSE 'k1' END END"
                    + " FROM pg_catalog.generate_series(1, 20) g, (VALUES ('bounded'), ('bounded_fair')) q (name)");
        }
        QueuePolicies policies = new QueuePolicies(schema, Duration.ZERO);
        policies.put(c, new PolicyParams(List.of(new QueuePolicy("bounded_fair", null, null, null, null, true))));
        JobStatements statements = new JobStatements(schema, 1000);
        asClaimer.run();

        // Past the claim floor, then its sweep, then by id what the sweep found.
        JobStatements.Claimed front = statements.claim(c, params("bounded", 10), Long.MAX_VALUE, null);
        assertThat(front.jobs()).hasSize(10);
        ClaimFloor floor = statements.claimFloor("bounded", TYPES);
        long now = System.nanoTime(); // 10 s ago, slow from the front; 9 s ago, quick past the floor: bounded
        floor.claimed(null, now - 11 * SECOND, 300_000_000L, 500, front.highest()); // slow twice, then a quick probe
        floor.claimed(null, now - 10 * SECOND, 300_000_000L, 500, front.highest());
        floor.claimed(floor.bound(), now - 9 * SECOND, 1_000_000L, 500, front.highest());
        assertThat(floor.isBounded()).isTrue();
        UUID urgent = insertUrgent(c, "bounded", null);
        assertThat(ids(statements.claim(c, params("bounded", 5)))).hasSize(5).doesNotContain(urgent);
        List<UUID> found = floor.takeFound(10);
        assertThat(found).as("what the sweep found before the floor").containsExactly(urgent);
        floor.giveBack(found);
        assertThat(ids(statements.claim(c, params("bounded", 1)))).containsExactly(urgent);

        // A fair queue: past each key's floor, then its sweep, which moves k0's floor back before a new job.
        QueuePolicies.InTransaction unlimited = body -> {
            throw new AssertionError("no limit: no claim transaction");
        };
        List<UUID> fromFront = ids(policies.claim(c, params("bounded_fair", 4), statements, unlimited));
        assertThat(fromFront).hasSize(4);
        Map<String, ClaimFloor.Key> highest = lastClaimedByKey(c, fromFront);
        assertThat(highest).containsOnlyKeys("k0", "k1");
        FairFloor fair = policies.fairFloor("bounded_fair", TYPES);
        long fairNow = System.nanoTime();
        fair.claimed(null, fair.generation(), fairNow - 11 * SECOND, 300_000_000L, 500, highest);
        fair.claimed(null, fair.generation(), fairNow - 10 * SECOND, 300_000_000L, 500, highest);
        fair.claimed(fair.bound(null), fair.generation(), fairNow - 9 * SECOND, 1_000_000L, 500, highest);
        assertThat(fair.isBounded()).isTrue();
        UUID urgentFair = insertUrgent(c, "bounded_fair", "k0");
        List<UUID> past = ids(policies.claim(c, params("bounded_fair", 2), statements, unlimited));
        assertThat(past).as("one job of each key, past its floor").hasSize(2).doesNotContain(urgentFair);
        assertThat(fair.isBounded()).isTrue();
        assertThat(ids(policies.claim(c, params("bounded_fair", 2), statements, unlimited)))
                .as("the sweep moved k0's floor back before the new job").contains(urgentFair);
    }

    private static ClaimParams params(String queue, int limit) {
        return new ClaimParams(queue, TYPES, limit, "bounded-claims", UUID.randomUUID(), Duration.ofMinutes(5), null);
    }

    private static List<UUID> ids(List<ClaimedJob> jobs) {
        return jobs.stream().map(ClaimedJob::id).toList();
    }

    /** A due job more urgent than every other, inserted by the caller's role, not the claimer's. */
    private UUID insertUrgent(Connection c, String queue, String partitionKey) throws SQLException {
        asCaller.run();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + schema + ".job_queue (job_type, queue, priority, partition_key)"
                + " VALUES ('work', ?, -1, ?) RETURNING id")) {
            ps.setString(1, queue);
            ps.setString(2, partitionKey);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getObject(1, UUID.class);
            }
        } finally {
            asClaimer.run();
        }
    }

    /** The last job claimed from each partition key among {@code ids}, in claim order. */
    private Map<String, ClaimFloor.Key> lastClaimedByKey(Connection c, List<UUID> ids) throws SQLException {
        Map<String, ClaimFloor.Key> last = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT partition_key, priority, run_at, id FROM " + schema
                + ".job_queue WHERE id = ANY (CAST(? AS uuid[]))")) {
            ps.setArray(1, c.createArrayOf("uuid", ids.toArray(UUID[]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    last.merge(rs.getString(1), new ClaimFloor.Key(rs.getInt(2), JdbcTime.instant(rs, 3), rs.getObject(4, UUID.class)),
                            ClaimFloor.Key::later);
                }
            }
        }
        return last;
    }
}
