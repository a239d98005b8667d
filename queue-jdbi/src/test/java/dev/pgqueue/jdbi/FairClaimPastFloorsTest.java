package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JdbcTime.instant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A fair claim past its keys' floors (claim-fair.sql with claim-fair-keys-past-floors.sql, issue 18):
 * counted, not timed, as in {@link ClaimPastFloorTest}. The claims run in one transaction, so the
 * entries of the jobs it claimed stay dead but not removable, as under a pinned horizon.
 */
@PostgresTest
class FairClaimPastFloorsTest {

    private static final int KEYS = 10;
    /** A fair queue claimed with no limit: its claims take no claim transaction. */
    private static final QueuePolicies.InTransaction UNLIMITED = body -> {
        throw new AssertionError("no limit: no claim transaction");
    };

    private final TestDatabase db;

    FairClaimPastFloorsTest(TestDatabase db) {
        this.db = db;
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build(); // migrates the schema
    }

    @BeforeEach
    void cleanSlate() {
        db.execute("DELETE FROM job_queue");
        db.execute("VACUUM job_queue"); // entries earlier tests left would count as walked
    }

    /** One fair claim's jobs, in the order returned: their keys, positions and claim orders. */
    private record Claim(List<UUID> ids, List<String> keys, List<Integer> positions, Map<String, ClaimFloor.Key> highest) {}

    @Test
    void aClaimPastTheFloors_walksNoEntryItLeftDead_visitsTheKeysInTheOrderGiven_andAClaimFromTheFrontStillTakesWhatSortsBefore()
            throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) { // 300 jobs of each of ten keys, a millisecond apart
                st.executeUpdate("INSERT INTO " + db.schema() + ".job_queue (id, job_type, payload, priority, run_at, partition_key)"
                        + " SELECT gen_random_uuid(), 'fair-job', '{}', 0, now() - interval '1 hour' + g * interval '1 ms',"
                        + " 'key-' || (g % " + KEYS + ") FROM generate_series(1, 3000) g");
                st.execute("ANALYZE " + db.schema() + ".job_queue");
            }
            // From the front, four claims of 500: 200 of each key's 300 jobs claimed, their entries dead.
            TreeMap<String, ClaimFloor.Key> floors = new TreeMap<>();
            String cursor = null;
            for (int i = 0; i < 4; i++) {
                Claim front = claimFromTheFront(c, 500, cursor);
                assertThat(front.ids()).hasSize(500);
                front.highest().forEach(floors::put);
                cursor = front.keys().get(front.keys().size() - 1);
            }
            assertThat(floors).hasSize(KEYS);

            // Eight claims past the floors, each of 50 (five of each key); from the sixth on, a generic plan.
            for (int i = 0; i < 8; i++) {
                long before = entriesReturned(c);
                Claim past = claimPastFloors(c, 50, new ArrayList<>(floors.keySet()), floors);
                long walked = entriesReturned(c) - before;
                assertThat(past.ids()).hasSize(50);
                assertThat(new LinkedHashSet<>(past.keys())).hasSize(KEYS);
                past.highest().forEach((key, last) -> assertThat(last).isGreaterThan(floors.get(key)));
                assertThat(walked).as("fair index entries claim %s past the floors returned (2,000 + %s left dead)", i + 1, 50 * i)
                        .isLessThan(200);
                floors.putAll(past.highest());
            }

            // Visited in the order given, from the cursor round to it: a claim of three jobs from three keys.
            List<String> rotated = new ArrayList<>(floors.tailMap("key-7", true).keySet());
            rotated.addAll(floors.headMap("key-7", false).keySet());
            Claim three = claimPastFloors(c, 3, rotated, floors);
            assertThat(three.keys()).containsExactly("key-7", "key-8", "key-9");
            assertThat(three.positions()).containsExactly(1, 2, 3);
            floors.putAll(three.highest());

            // A key not given is not visited; neither is a job more urgent than its key's floor.
            UUID urgent = insertJob(c, "key-3", -1);
            Claim withoutKey3 = claimPastFloors(c, 100, new ArrayList<>(floors.headMap("key-3", false).keySet()), floors);
            assertThat(withoutKey3.keys()).isNotEmpty().allMatch(key -> key.compareTo("key-3") < 0);
            floors.putAll(withoutKey3.highest());
            Claim past = claimPastFloors(c, 10, new ArrayList<>(floors.keySet()), floors);
            assertThat(past.ids()).hasSize(10).doesNotContain(urgent);

            // A sweep (read only) answers each key's first due job: key-3's is the urgent one, before its floor.
            Map<String, ClaimFloor.Key> first = sweep(c);
            assertThat(first).hasSize(KEYS);
            assertThat(first.get("key-3").id()).isEqualTo(urgent);
            first.forEach((key, job) -> {
                if (!key.equals("key-3")) {
                    assertThat(job).as("%s's first due job: past its floor", key).isGreaterThan(floors.get(key));
                }
            });

            long before = entriesReturned(c);
            Claim front = claimFromTheFront(c, 10, null);
            assertThat(front.ids()).contains(urgent);
            assertThat(entriesReturned(c) - before).as("a claim from the front walks the dead entries").isGreaterThan(2_000);
            c.rollback();
        }
    }

    /**
     * Two threads of one store claim a fair queue at once while its claims start past the keys' floors.
     * A's claim of ten, inside a claim transaction, locks the next four jobs of each of three keys and
     * takes ten: the limit cuts the fourth round, so two keys' fourth jobs stay locked, untaken. B's claim,
     * before A's transaction ends, skips A's twelve, takes ten after them and raises those keys' floors
     * past them. When A's transaction ends, the store owes those two to the floors, and the next claim
     * takes them. Before, it started past B's floors, and they waited for a sweep (1–60 s).
     */
    @Test
    void jobsAFairClaimLockedAndLeft_areTakenNext_thoughAnotherThreadsClaimMovedTheirKeysFloorsPastThem() throws Exception {
        QueuePolicies policies = fairQueue();
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection a = db.dataSource().getConnection(); Connection b = db.dataSource().getConnection()) {
            insertFairJobs(a, 3, 30);
            assertThat(policies.claim(a, fairParams(30), statements, UNLIMITED)).as("from the front: ten of each key").hasSize(30);
            boundedFloors(policies);

            ConcurrentClaims.Taken taken = ConcurrentClaims.whileAHoldsItsLocks(statements, a,
                    () -> policies.claim(a, fairParams(10), statements, UNLIMITED),
                    () -> policies.claim(b, fairParams(10), statements, UNLIMITED));
            List<UUID> leftByA = pendingOfEachKeysJobs(a, 11, 14);
            assertThat(leftByA).as("A's locked and untaken").hasSize(2);
            assertThat(taken.byA()).hasSize(10);
            assertThat(taken.byB()).hasSize(10).doesNotContainAnyElementsOf(leftByA);

            assertThat(ids(policies.claim(a, fairParams(10), statements, UNLIMITED))).as("the next claim").containsAll(leftByA);
        } finally {
            db.execute("DELETE FROM job_queue_policy");
        }
    }

    /**
     * A fair claim from the fair index's front, in a claim transaction that then rolls back: its jobs are
     * pending again, before the floors its report raised. If the next claim is a probe past the floors
     * (the claim before it was slow) and fills its limit there, nothing from the front tops it up: before,
     * those jobs waited for a sweep (1–60 s) once claims were bounded. Now the store owes them to the
     * floors, and the probe starts before them.
     */
    @Test
    void aFairClaimFromTheFrontThatRollsBack_owesItsJobs_andTheProbeAfterItTakesThem() throws Exception {
        QueuePolicies policies = fairQueue();
        JobStatements statements = new JobStatements(db.schema(), 1000);
        try (Connection c = db.dataSource().getConnection()) {
            insertFairJobs(c, 3, 30);
            assertThat(policies.claim(c, fairParams(3), statements, UNLIMITED)).as("one of each key, so that floors exist").hasSize(3);
            FairFloor floor = policies.fairFloor("default", Set.of("fair-job"));
            floor.claimed(null, floor.generation(), System.nanoTime(), 1_000_000L, 3, Map.of()); // as if quick, whatever it took
            assertThat(floor.bound(null)).as("the next claim is from the front").isNull();
            List<UUID> rolledBack = new ArrayList<>();
            assertThatThrownBy(() -> statements.claimTransaction(() -> {
                c.setAutoCommit(false);
                try {
                    rolledBack.addAll(ids(policies.claim(c, fairParams(9), statements, UNLIMITED)));
                    c.rollback();
                    throw new SQLException("the limit's bookkeeping failed after the claim");
                } finally {
                    c.setAutoCommit(true);
                }
            })).isInstanceOf(SQLException.class);
            assertThat(rolledBack).hasSize(9);

            floor.claimed(null, floor.generation(), System.nanoTime() - 2_000_000_000L, 300_000_000L, 500, Map.of()); // slow twice
            floor.claimed(null, floor.generation(), System.nanoTime() - 1_000_000_000L, 300_000_000L, 500, Map.of());
            assertThat(floor.bound(null)).as("the next claim is a probe past the floors").isNotNull();
            assertThat(ids(policies.claim(c, fairParams(9), statements, UNLIMITED))).as("the probe")
                    .containsExactlyInAnyOrderElementsOf(rolledBack);
        } finally {
            db.execute("DELETE FROM job_queue_policy");
        }
    }

    /**
     * Jobs enqueued by SQL with run_at '-infinity' (most urgent): one locked and not taken, owed to its
     * key's floor; the claim still answers, and the claim past floors at -infinity takes it.
     */
    @Test
    void jobsWithRunAtMinusInfinity_lockedAndNotTaken_areOwed_andClaimedPastFloorsThere() throws Exception {
        QueuePolicies policies = fairQueue();
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO " + db.schema() + ".job_queue (job_type, payload, run_at, partition_key)"
                    + " SELECT 'fair-job', '{}', '-infinity', k FROM (VALUES ('key-a'), ('key-a'), ('key-b'), ('key-b')) v(k)");
            JobStatements statements = new JobStatements(db.schema(), 1000);
            // Two of each key locked, three kept: one key's second job is left, with run_at -infinity, and owed.
            List<UUID> first = ids(policies.claim(c, fairParams(3), statements, UNLIMITED));
            assertThat(first).hasSize(3);
            boundedFloors(policies);
            assertThat(ids(policies.claim(c, fairParams(3), statements, UNLIMITED))).as("past floors at -infinity")
                    .hasSize(1).doesNotContainAnyElementsOf(first);
        } finally {
            db.execute("DELETE FROM job_queue_policy");
        }
    }

    /** Makes queue {@code default} fair (and nothing else); {@return policies read afresh at each claim} */
    private QueuePolicies fairQueue() {
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        db.execute("DELETE FROM job_queue_policy");
        store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("default", "*", null, null, null, true))));
        return new QueuePolicies(db.schema(), Duration.ZERO);
    }

    /**
     * Bounds the fair claims of {@code policies}' queue at their floors: as if the claims from the front
     * 11 and 10 s ago were slow and a probe 9 s ago quick; with a sweep started, as if elsewhere, so that
     * none runs inline on the claim's connection.
     */
    private static void boundedFloors(QueuePolicies policies) {
        FairFloor floor = policies.fairFloor("default", Set.of("fair-job"));
        long now = System.nanoTime();
        floor.claimed(null, floor.generation(), now - 11_000_000_000L, 300_000_000L, 500, Map.of());
        floor.claimed(null, floor.generation(), now - 10_000_000_000L, 300_000_000L, 500, Map.of());
        floor.claimed(floor.bound(null), floor.generation(), now - 9_000_000_000L, 1_000_000L, 500, Map.of());
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(now)).isTrue();
    }

    private void insertFairJobs(Connection c, int keys, int each) throws SQLException {
        try (Statement st = c.createStatement()) { // a millisecond apart
            st.executeUpdate("INSERT INTO " + db.schema() + ".job_queue (id, job_type, payload, priority, run_at, partition_key)"
                    + " SELECT gen_random_uuid(), 'fair-job', '{}', 0, now() - interval '1 hour' + g * interval '1 ms',"
                    + " 'key-' || (g % " + keys + ") FROM generate_series(1, " + keys * each + ") g");
        }
    }

    private static ClaimParams fairParams(int limit) {
        return new ClaimParams("default", Set.of("fair-job"), limit, "fair-test", UUID.randomUUID(), Duration.ofMinutes(5), null);
    }

    private static List<UUID> ids(List<ClaimedJob> jobs) {
        return jobs.stream().map(ClaimedJob::id).toList();
    }

    /** The jobs still pending among each key's {@code from}th to {@code to}th in claim order. */
    private List<UUID> pendingOfEachKeysJobs(Connection c, int from, int to) throws SQLException {
        List<UUID> ids = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id, status FROM (SELECT id, status,"
                + " row_number() OVER (PARTITION BY partition_key ORDER BY priority, run_at, id) AS n FROM " + db.schema()
                + ".job_queue) j WHERE n BETWEEN " + from + " AND " + to + " AND status = 'pending'")) {
            while (rs.next()) {
                ids.add(rs.getObject(1, UUID.class));
            }
        }
        return ids;
    }

    private Claim claimFromTheFront(Connection c, int limit, String cursor) throws SQLException {
        NamedSql sql = QueuePolicies.claimFairStatement(db.schema(), false);
        try (PreparedStatement ps = c.prepareStatement(sql.jdbc())) {
            bindCommon(c, sql.bind(ps), limit).setString("cursor", cursor);
            return read(ps);
        }
    }

    private Claim claimPastFloors(Connection c, int limit, List<String> keys, Map<String, ClaimFloor.Key> floors)
            throws SQLException {
        NamedSql sql = QueuePolicies.claimFairStatement(db.schema(), true);
        try (PreparedStatement ps = c.prepareStatement(sql.jdbc())) {
            bindCommon(c, sql.bind(ps), limit)
                    .setArray("keys", c.createArrayOf("text", keys.toArray(String[]::new)))
                    .setArray("floor_priorities", c.createArrayOf("int4", keys.stream().map(k -> floors.get(k).priority()).toArray(Integer[]::new)))
                    .setArray("floor_run_ats", c.createArrayOf("text", keys.stream().map(k -> floors.get(k).runAt().toString()).toArray(String[]::new)))
                    .setArray("floor_ids", c.createArrayOf("uuid", keys.stream().map(k -> floors.get(k).id()).toArray(UUID[]::new)));
            return read(ps);
        }
    }

    private Map<String, ClaimFloor.Key> sweep(Connection c) throws SQLException {
        NamedSql sql = QueuePolicies.claimFairSweepStatement(db.schema());
        Map<String, ClaimFloor.Key> first = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql.jdbc())) {
            sql.bind(ps).setInstant("now", null)
                    .setString("queue", "default")
                    .setArray("types", c.createArrayOf("text", new String[] {"fair-job"}))
                    .setInt("limit", 100)
                    .setString("cursor", null);
            try (ResultSet rs = QueuePolicies.fairRows(ps)) {
                while (rs.next()) {
                    first.put(rs.getString(1), new ClaimFloor.Key(rs.getInt(2), instant(rs, 3), rs.getObject(4, UUID.class)));
                }
            }
        }
        return first;
    }

    private static NamedSql.Binder bindCommon(Connection c, NamedSql.Binder binder, int limit) throws SQLException {
        return binder.setInstant("now", null)
                .setString("queue", "default")
                .setArray("types", c.createArrayOf("text", new String[] {"fair-job"}))
                .setInt("limit", limit)
                .setLong("byte_budget", Long.MAX_VALUE)
                .setString("lease_owner", "fair-test")
                .setObject("lease_token", UUID.randomUUID())
                .setLong("lease_micros", 300_000_000L);
    }

    private static Claim read(PreparedStatement ps) throws SQLException {
        List<UUID> ids = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        Map<String, ClaimFloor.Key> highest = new HashMap<>();
        try (ResultSet rs = QueuePolicies.fairRows(ps)) {
            while (rs.next()) {
                UUID id = rs.getObject(1, UUID.class);
                ids.add(id);
                keys.add(rs.getString(14));
                positions.add(rs.getInt(15));
                highest.merge(rs.getString(14), new ClaimFloor.Key(rs.getInt(8), instant(rs, 9), id),
                        ClaimFloor.Key::later);
            }
        }
        return new Claim(ids, keys, positions, highest);
    }

    private UUID insertJob(Connection c, String key, int priority) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("INSERT INTO " + db.schema() + ".job_queue (id, job_type, payload, priority, run_at, partition_key)"
                     + " VALUES (gen_random_uuid(), 'fair-job', '{}', " + priority + ", now() - interval '2 hours', '" + key + "') RETURNING id")) {
            rs.next();
            return rs.getObject(1, UUID.class);
        }
    }

    private long entriesReturned(Connection c) throws SQLException {
        return IndexEntries.returned(c, db.schema(), "job_queue_fair_idx");
    }
}
