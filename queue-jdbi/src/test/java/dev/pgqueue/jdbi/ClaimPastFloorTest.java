package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Claims past the floor (issue 18): while a snapshot holds back the xmin horizon, every job a claim
 * takes leaves its entry in the claim index dead but not removable, and a claim from the index's front
 * walks them all. A claim bounded by the floor starts past them; a full claim still takes what sorts
 * before the floor.
 */
@PostgresTest
class ClaimPastFloorTest {

    private static final Set<String> TYPES = Set.of("floor-job");
    private static final Duration LEASE = Duration.ofMinutes(5);

    private final TestDatabase db;
    private final JdbiJobStore store;

    ClaimPastFloorTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
    }

    @BeforeEach
    void cleanSlate() {
        db.execute("DELETE FROM job_queue");
        db.execute("VACUUM job_queue"); // the entries earlier tests left (rolled back) would count as walked
    }

    /**
     * Counted, not timed: the index entries each claim's scan returned ({@code pg_stat_get_xact_tuples_returned}
     * of the claim index, this transaction's own count). The claims run in one transaction, so the
     * entries of the jobs it claimed stay dead but not removable, as under a pinned horizon.
     */
    @Test
    void aClaimPastTheFloor_walksNoEntryItLeftDead_andAFullClaimStillTakesWhatSortsBeforeIt() throws SQLException {
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection c = db.dataSource().getConnection()) {
            JobStatements.Claimed first = claim2000Of3000(statements, c);
            ClaimFloor.Key floor = first.highest();

            // Eight times, each past the last: from the sixth on, pgjdbc and the server use a prepared, generic plan.
            for (int i = 0; i < 8; i++) {
                long before = entriesReturned(c);
                JobStatements.Claimed past = statements.claim(c, params(100), Long.MAX_VALUE, floor);
                long pastReads = entriesReturned(c) - before;
                assertThat(past.jobs()).hasSize(100);
                assertThat(past.jobs().get(0).runAt()).isAfter(floor.runAt());
                assertThat(pastReads).as("index entries claim %s past the floor returned", i + 1).isLessThan(200);
                floor = past.highest();
            }

            long before = entriesReturned(c);
            JobStatements.Claimed full = statements.claim(c, params(100), Long.MAX_VALUE, null);
            long fullReads = entriesReturned(c) - before;
            assertThat(full.jobs()).hasSize(100);
            assertThat(fullReads).as("index entries a full claim returned: the 2,800 claims left dead, then 100").isGreaterThan(2_800);

            // A more urgent job and one due an hour earlier sort before the floor: only a full claim sees them.
            UUID urgent = insertJob(c, -1, "now()");
            UUID early = insertJob(c, 0, "now() - interval '2 hours'");
            JobStatements.Claimed pastAgain = statements.claim(c, params(5), Long.MAX_VALUE, full.highest());
            assertThat(ids(pastAgain.jobs())).hasSize(5).doesNotContain(urgent, early);
            JobStatements.Claimed fullAgain = statements.claim(c, params(2), Long.MAX_VALUE, null);
            assertThat(ids(fullAgain.jobs())).containsExactly(urgent, early);
            c.rollback();
        }
    }

    /**
     * While claims are bounded, a sweep finds what sorts before the floor, the floor's own key included
     * (here inline, on the claim's connection; a store runs it on a connection of its own), and the next
     * claim takes those jobs first, by id, then claims on past the floor. Claims of found jobs walk no
     * entry of the claim index: counted as above, eight times, so that the later ones run on a generic plan.
     */
    @Test
    void aSweep_findsWhatSortsBeforeTheFloor_andTheNextClaimTakesThemFirst_byId() throws SQLException {
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection c = db.dataSource().getConnection()) {
            JobStatements.Claimed last = claim2000Of3000(statements, c);
            for (int i = 0; i < 2; i++) {
                last = statements.claim(c, params(500), Long.MAX_VALUE, null); // all 3,000 claimed
            }
            ClaimFloor floor = boundedFloor(statements, last.highest());

            // The last job claimed is handed back (released at a shutdown, say): its key is the floor's own.
            UUID atTheFloor = last.highest().id();
            try (Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE " + db.schema() + ".job_queue SET status = 'pending' WHERE id = '" + atTheFloor + "'");
            }
            UUID urgent = insertJob(c, -1, "now()");
            UUID early = insertJob(c, 0, "now() - interval '2 hours'");
            assertThat(statements.claim(c, params(5))).as("nothing past the floor").isEmpty(); // a sweep runs after it
            List<UUID> found = floor.takeFound(10);
            assertThat(found).as("in claim order").containsExactly(urgent, early, atTheFloor);
            floor.giveBack(found);
            assertThat(ids(statements.claim(c, params(10)))).containsExactlyInAnyOrder(urgent, early, atTheFloor);
            try (Statement st = c.createStatement()) {
                st.execute("ANALYZE " + db.schema() + ".job_queue"); // few pending jobs: the claim index tempts a planner
            }

            for (int i = 0; i < 8; i++) {
                UUID a = insertJob(c, -1, "now()");
                UUID b = insertJob(c, -1, "now()");
                floor.giveBack(List.of(b, a)); // as a sweep would have found them
                long before = entriesReturned(c);
                List<ClaimedJob> first = statements.claim(c, params(2));
                assertThat(entriesReturned(c) - before).as("claim index entries claim %s by id returned", i + 1).isZero();
                assertThat(ids(first)).containsExactlyInAnyOrder(a, b);
            }
            c.rollback();
        }
    }

    /**
     * A limited claim runs in a transaction of its own ({@link JobStatements#claimTransaction}); if that
     * rolls back after a claim past the floor (the limit's bookkeeping failed, or the commit did not
     * answer), its jobs are pending again but sort before the floor, which moved past them. They go back
     * to the floor, and the next claim takes them, by id, instead of the ones after them: before, they
     * waited for the next sweep (1–60 s).
     */
    @Test
    void aClaimTransactionThatRollsBack_handsItsJobsBackToTheFloor_forTheNextClaim() throws SQLException {
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection c = db.dataSource().getConnection()) {
            insertJobs(c, 100, 0, "now() - interval '1 hour' + g * interval '1 ms'");
            JobStatements.Claimed first = statements.claim(c, params(50), Long.MAX_VALUE, null);
            ClaimFloor floor = boundedFloor(statements, first.highest());
            // As if a sweep ran on the store's own connection meanwhile: none runs inline in this test, so
            // none finds the jobs below (and none finds the front quick and unbounds the claims).
            assertThat(floor.startSweep(System.nanoTime())).isTrue();

            List<UUID> rolledBack = new ArrayList<>();
            assertThatThrownBy(() -> statements.claimTransaction(() -> {
                c.setAutoCommit(false);
                rolledBack.addAll(ids(statements.claim(c, params(10))));
                c.rollback();
                throw new SQLException("the limit's bookkeeping failed after the claim");
            })).isInstanceOf(SQLException.class);
            c.setAutoCommit(true);
            assertThat(rolledBack).hasSize(10);
            assertThat(floor.bound().compareTo(first.highest())).as("the floor moved past them").isPositive();

            assertThat(ids(statements.claim(c, params(10)))).as("the next claim").containsExactlyInAnyOrderElementsOf(rolledBack);
            List<UUID> committed = new ArrayList<>();
            statements.claimTransaction(() -> committed.addAll(ids(statements.claim(c, params(10)))));
            assertThat(committed).hasSize(10).doesNotContainAnyElementsOf(rolledBack);
            assertThat(ids(statements.claim(c, params(10)))).as("a claim transaction that commits hands nothing back")
                    .hasSize(10).doesNotContainAnyElementsOf(committed);
        }
    }

    /**
     * Two threads of one store claim the queue at once while claims are bounded. A's claim, inside a claim
     * transaction, locks ten due jobs and its byte budget takes four; B's claim, before A's transaction
     * ends, skips all ten as locked, takes the four after them and moves the shared floor past A's other six.
     * When A's transaction ends, the claim hands those six to the floor, and the next claim takes them
     * first, by id. Before, it started past the floor, and they waited for a sweep (1–60 s, started only by
     * a claim), or, in a worker whose claims then found nothing, for its next poll.
     */
    @Test
    void jobsAClaimLockedAndLeft_areTakenNext_thoughAnotherThreadsClaimMovedTheFloorPastThem() throws Exception {
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection a = db.dataSource().getConnection(); Connection b = db.dataSource().getConnection()) {
            insertJobs(a, 100, 0, "now() - interval '1 hour' + g * interval '1 ms'");
            JobStatements.Claimed first = statements.claim(a, params(50), Long.MAX_VALUE, null);
            ClaimFloor floor = boundedFloor(statements, first.highest());
            assertThat(floor.startSweep(System.nanoTime())).isTrue(); // as if one ran elsewhere: none runs inline here
            List<UUID> nextTen = pendingInClaimOrder(a, 10);

            ConcurrentClaims.Taken taken = ConcurrentClaims.whileAHoldsItsLocks(statements, a,
                    () -> statements.claim(a, params(10), 8), // '{}' is 2 bytes: 4 of the 10 it locks
                    () -> statements.claim(b, params(10), 8));
            assertThat(taken.byA()).containsExactlyInAnyOrderElementsOf(nextTen.subList(0, 4));
            assertThat(taken.byB()).hasSize(4).doesNotContainAnyElementsOf(nextTen);

            assertThat(ids(statements.claim(a, params(6), Long.MAX_VALUE))).as("the next claim: the six A left")
                    .containsExactlyInAnyOrderElementsOf(nextTen.subList(4, 10));
        }
    }

    /**
     * A job enqueued by SQL with run_at '-infinity' sorts first; a claim that ends on one leaves the floor
     * there. Claims bounded by it went on failing (a DateTimeException binding the floor) until sweeps,
     * failing the same way, were judged stalled minutes later. Now the floor is sent as -infinity.
     */
    @Test
    void aFloorAtRunAtMinusInfinity_boundsClaimsLikeAnyOther() throws SQLException {
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection c = db.dataSource().getConnection()) {
            insertJobs(c, 3, 0, "'-infinity'");
            insertJobs(c, 10, 0, "now() - interval '1 hour' + g * interval '1 ms'");
            List<UUID> urgent = pendingInClaimOrder(c, 3);
            JobStatements.Claimed first = statements.claim(c, params(2), Long.MAX_VALUE, null);
            assertThat(ids(first.jobs())).containsExactlyInAnyOrderElementsOf(urgent.subList(0, 2)); // returned in no set order
            ClaimFloor floor = boundedFloor(statements, first.highest());
            assertThat(floor.startSweep(System.nanoTime())).isTrue(); // as if one ran elsewhere: none runs inline here
            List<UUID> next = ids(statements.claim(c, params(5)));
            assertThat(next).hasSize(5).contains(urgent.get(2));
        }
    }

    /**
     * A probe (the one bounded claim after a slow full claim, to time the two) returns what a full
     * claim would: with room left, it takes what sorts before the floor too. Here the floor is placed
     * as a slow full claim that took job {@code b} would leave it, and a more urgent job {@code a} was
     * locked by another claimer then, so it sorts before the floor (as in JdbiJobStoreTest's
     * claim_skipsJobsLockedByAnotherWorker, which failed on a loaded machine before this).
     */
    @Test
    void aProbe_stillTakesWhatSortsBeforeTheFloor() throws SQLException {
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection c = db.dataSource().getConnection()) {
            UUID a = insertJob(c, -1, "now() - interval '1 minute'");
            UUID b = insertJob(c, 0, "now() - interval '1 minute'");
            JobStatements.Claimed peek = statements.claim(c, params(2), Long.MAX_VALUE, null);
            assertThat(ids(peek.jobs())).containsExactly(a, b);
            c.createStatement().executeUpdate("UPDATE " + db.schema() + ".job_queue SET status = 'pending' WHERE id = '" + a + "'");
            ClaimFloor floor = statements.claimFloor("default", TYPES);
            floor.claimed(null, 0, 300_000_000L, 1, peek.highest()); // slow twice: the next claim is a probe past b
            floor.claimed(null, 300_000_000L, 300_000_000L, 1, peek.highest());
            assertThat(floor.bound()).isEqualTo(peek.highest());

            assertThat(ids(statements.claim(c, params(10)))).containsExactly(a);
        }
    }

    /** The queue's policy in {@link #underAPinnedHorizon_theStoreClaimsPastTheFloor_andClaimsEveryJobOnce}. */
    enum Policy {
        /** No policy: claim.sql alone. */
        NONE,
        /**
         * A concurrency limit of 150 (claims ask for 200): each claim is a limited one, in the limit's
         * transaction, and its count of the starts running under the limit begins past those it deleted.
         */
        LIMITED,
        /** Fair: claim-fair.sql takes the keyed jobs round-robin, claim.sql fills up with the rest. */
        FAIR,
        /**
         * Fair, every job under one of 100 partition keys: every claim is claim-fair.sql's, whose walks of
         * each key start past the key's floor ({@link FairFloor}); the urgent job is one more of a key.
         */
        FAIR_KEYED;

        boolean fair() {
            return this == FAIR || this == FAIR_KEYED;
        }
    }

    /**
     * Through the store, with a real snapshot held open on another connection: the store notices that
     * full claims walk dead entries and claims past the floor, and still every job is claimed exactly
     * once, including one more urgent than the floor enqueued at the first claim bounded by the floor once a
     * quarter of the jobs are claimed (a sweep finds it). Not later: the store judges again at each sweep
     * whether bounding pays, and on a quick machine it may go back to the front for the last part of the
     * run (seen: 38 s into a 46 s run), where a job more urgent than all is simply claimed first. The
     * switch is the store's judgment of two claims' speed, so the dead entries are made many: 120,000
     * claimed jobs, against claims of 200, behind {@link #DEAD_AHEAD} finished from the start (walking
     * them costs several times what claiming 200 jobs does). The sweep that finds the urgent job wakes the
     * store's subscribers, unless a sweep judged the front quick again before (the store then claims it
     * from the front). The same for a limited queue (its claims within the limit's room), a fair one (its
     * fill, behind 1,000 keyed jobs the fair claim takes first) and a fair one whose jobs all have a key
     * (its fair claims start each key past its floor; the urgent job, of one key, is found by the fair
     * floor's sweep, or taken by the claim that fills a short fair claim); each batch is completed, so
     * that the limit has room again.
     */
    @ParameterizedTest
    @EnumSource(Policy.class)
    void underAPinnedHorizon_theStoreClaimsPastTheFloor_andClaimsEveryJobOnce(Policy policy) throws Exception {
        // No LISTEN: the only wake-ups its subscribers get are this process's own, here the sweeps'.
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).notifications(false).build();
        db.execute("DELETE FROM job_queue_policy");
        switch (policy) {
            case LIMITED -> store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("default", "*", 150, null, null, false))));
            case FAIR, FAIR_KEYED -> store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("default", "*", null, null, null, true))));
            case NONE -> { }
        }
        Set<String> woken = ConcurrentHashMap.newKeySet();
        JobStore.Subscription subscription = store.subscribe(new JobStore.StoreListener() {
            @Override
            public void jobsAvailable(String queue) {
                woken.add(queue);
            }

            @Override
            public void cancelRequested(UUID jobId) {}

            @Override
            public void reconnected() {}
        });
        int jobs = 120_000;
        int keyed = policy == Policy.FAIR ? 1_000 : 0;
        Set<UUID> keyedIds = new HashSet<>();
        String partitionKey = policy == Policy.FAIR_KEYED ? "'key-' || (g % 100)" : "NULL";
        try (Connection c = db.dataSource().getConnection()) {
            // First in claim order, finished once the snapshot is held: DEAD_AHEAD dead entries from the start.
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO " + db.schema() + ".job_queue (id, job_type, payload, priority, run_at, partition_key)"
                        + " SELECT gen_random_uuid(), 'floor-done', '{}', 0, now() - interval '2 hours' + g * interval '10 us', "
                        + partitionKey + " FROM generate_series(1, " + DEAD_AHEAD + ") g");
            }
            insertJobs(c, jobs - keyed, 0, "now() - interval '1 hour' + g * interval '10 us'", partitionKey);
            if (keyed > 0) { // last in claim order, ten keys: only a fair claim takes them first
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("INSERT INTO " + db.schema()
                        + ".job_queue (id, job_type, payload, priority, run_at, partition_key)"
                        + " SELECT gen_random_uuid(), 'floor-job', '{}', 0, now() - interval '1 minute', 'key-' || (g % 10)"
                        + " FROM generate_series(1, " + keyed + ") g RETURNING id")) {
                    while (rs.next()) {
                        keyedIds.add(rs.getObject(1, UUID.class));
                    }
                }
            }
        }
        Set<UUID> claimed = new HashSet<>();
        boolean sawPastFloor = false;
        UUID urgent = null;
        boolean urgentClaimedPastFloor = false;
        long slowestClaimMillis = 0;
        int claims = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        try (Connection pin = db.dataSource().getConnection();
             Connection done = db.dataSource().getConnection()) {
            pin.setAutoCommit(false);
            try (Statement st = pin.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                st.executeQuery("SELECT 1").close(); // the snapshot is taken: every row claimed from now on stays dead
            }
            try (Statement st = done.createStatement()) {
                st.executeUpdate("UPDATE " + db.schema() + ".job_queue SET status = 'completed', completed_at = now()"
                        + " WHERE job_type = 'floor-done'");
            }
            while (true) {
                assertThat(System.nanoTime()).as("the claims ended within 90 s (claimed %s jobs in %s claims; the urgent job: %s)",
                        claimed.size(), claims, claimed.contains(urgent)).isLessThan(deadline);
                boolean boundedBefore = pastFloor(store, policy);
                long claimStart = System.nanoTime();
                List<ClaimedJob> batch = store.jobClaim(new ClaimParams("default", TYPES, 200, "floor-test",
                        UUID.randomUUID(), LEASE, null));
                slowestClaimMillis = Math.max(slowestClaimMillis, (System.nanoTime() - claimStart) / 1_000_000);
                sawPastFloor |= pastFloor(store, policy);
                if (urgent != null && ids(batch).contains(urgent)) {
                    urgentClaimedPastFloor = boundedBefore;
                }
                if (batch.isEmpty()) {
                    if (urgent != null && !claimed.contains(urgent)) {
                        Thread.sleep(100); // waits for the sweep that finds it
                        continue;
                    }
                    break;
                }
                if (claims++ == 0 && policy == Policy.FAIR) {
                    assertThat(keyedIds).as("the first fair claim: 20 keyed jobs of each of the ten keys")
                            .containsAll(ids(batch));
                }
                if (policy == Policy.LIMITED) {
                    assertThat(batch).as("a claim within the limit's room").hasSizeLessThanOrEqualTo(150);
                }
                for (ClaimedJob job : batch) {
                    assertThat(claimed.add(job.id())).as("claimed once: %s", job.id()).isTrue();
                }
                complete(done, batch);
                if (urgent == null && claimed.size() >= jobs / 4 && pastFloor(store, policy)) {
                    try (Connection c = db.dataSource().getConnection()) {
                        urgent = insertJob(c, -1, "now()", policy == Policy.FAIR_KEYED ? "'key-7'" : "NULL");
                    }
                }
            }
            pin.rollback();
        }
        subscription.close();
        assertThat(sawPastFloor).as("the store claimed past the floor while the horizon was held (%s claims, the slowest %s ms)",
                claims, slowestClaimMillis).isTrue();
        assertThat(urgent).as("claims were bounded by the floor after a quarter of the jobs: the urgent job was enqueued then")
                .isNotNull();
        // Else a sweep found the front quick to walk again first (the store's judgment, seen on a quick
        // machine), and a claim from the front took the urgent job: no wake-up was needed. That every job,
        // the urgent one included, was claimed once is checked below either way.
        if (urgentClaimedPastFloor && policy != Policy.FAIR_KEYED) { // keyed: the fill may take it, with no wake-up
            assertThat(woken).as("the sweep that found the urgent job woke the store's subscribers").containsExactly("default");
        }
        assertThat(claimed).hasSize(jobs + 1).contains(urgent);
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + db.schema() + ".job_queue WHERE status <> 'completed'")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
        db.execute("DELETE FROM job_queue_policy");
    }

    /**
     * Jobs ahead of the test's in claim order, finished as soon as the snapshot is held, so that a claim from
     * the index's front walks this many dead entries from the start: without them, on a quick machine a
     * limited queue's claims (150 each) came through 120,000 jobs without one from the front taking 20 ms.
     */
    private static final int DEAD_AHEAD = 100_000;

    /** Whether {@code store}'s claims of the queue start past their floor: for fair keyed jobs, their keys' floors. */
    private static boolean pastFloor(JdbiJobStore store, Policy policy) {
        return policy == Policy.FAIR_KEYED ? store.fairClaimsPastFloors("default", TYPES) : store.claimsPastFloor("default", TYPES);
    }

    /** Marks {@code batch} completed, as a worker's completions would (a plain update: the limit counts processing jobs). */
    private void complete(Connection c, List<ClaimedJob> batch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + db.schema()
                + ".job_queue SET status = 'completed', completed_at = now() WHERE id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("uuid", ids(batch).toArray()));
            ps.executeUpdate();
        }
    }

    /**
     * Starts a transaction on {@code c}, inserts 3,000 jobs a millisecond apart and claims 2,000 of them
     * from the front in claims of 500, the last of which it returns: their entries stay dead until the
     * transaction ends.
     */
    private JobStatements.Claimed claim2000Of3000(JobStatements statements, Connection c) throws SQLException {
        c.setAutoCommit(false);
        insertJobs(c, 3_000, 0, "now() - interval '1 hour' + g * interval '1 ms'");
        JobStatements.Claimed last = null;
        for (int i = 0; i < 4; i++) {
            last = statements.claim(c, params(500), Long.MAX_VALUE, null);
            assertThat(last.jobs()).hasSize(500);
        }
        return last;
    }

    private ClaimParams params(int limit) {
        return new ClaimParams("default", TYPES, limit, "floor-test", UUID.randomUUID(), LEASE, null);
    }

    private void insertJobs(Connection c, int count, int priority, String runAt) throws SQLException {
        insertJobs(c, count, priority, runAt, "NULL");
    }

    private void insertJobs(Connection c, int count, int priority, String runAt, String partitionKey) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO " + db.schema() + ".job_queue (id, job_type, payload, priority, run_at, partition_key)"
                    + " SELECT gen_random_uuid(), 'floor-job', '{}', " + priority + ", " + runAt + ", " + partitionKey
                    + " FROM generate_series(1, " + count + ") g");
            st.execute("ANALYZE " + db.schema() + ".job_queue");
        }
    }

    private UUID insertJob(Connection c, int priority, String runAt) throws SQLException {
        return insertJob(c, priority, runAt, "NULL");
    }

    private UUID insertJob(Connection c, int priority, String runAt, String partitionKey) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("INSERT INTO " + db.schema() + ".job_queue (id, job_type, payload, priority, run_at, partition_key)"
                     + " VALUES (gen_random_uuid(), 'floor-job', '{}', " + priority + ", " + runAt + ", " + partitionKey + ") RETURNING id")) {
            rs.next();
            return rs.getObject(1, UUID.class);
        }
    }

    private long entriesReturned(Connection c) throws SQLException {
        return IndexEntries.returned(c, db.schema(), "job_queue_claim_idx");
    }

    /** The queue's floor, at {@code highest} and bounding claims: as if two slow claims from the front 11 and 10 s ago, then a quick probe. */
    private static ClaimFloor boundedFloor(JobStatements statements, ClaimFloor.Key highest) {
        ClaimFloor floor = statements.claimFloor("default", TYPES);
        long now = System.nanoTime();
        floor.claimed(null, now - 11_000_000_000L, 300_000_000L, 500, highest);
        floor.claimed(null, now - 10_000_000_000L, 300_000_000L, 500, highest);
        floor.claimed(floor.bound(), now - 9_000_000_000L, 1_000_000L, 500, highest);
        assertThat(floor.isBounded()).isTrue();
        return floor;
    }

    private List<UUID> pendingInClaimOrder(Connection c, int limit) throws SQLException {
        List<UUID> ids = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM " + db.schema()
                + ".job_queue WHERE status = 'pending' ORDER BY priority, run_at, id LIMIT " + limit)) {
            while (rs.next()) {
                ids.add(rs.getObject(1, UUID.class));
            }
        }
        return ids;
    }

    private static List<UUID> ids(List<ClaimedJob> jobs) {
        List<UUID> ids = new ArrayList<>();
        jobs.forEach(job -> ids.add(job.id()));
        return ids;
    }
}
