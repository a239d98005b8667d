package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fair statements' plans (issue 18, docs/fairness.md "Why: the fair claim's plan"): after an ANALYZE
 * that saw no pending job, the planner estimates one row for every scan of a fair statement, and
 * job_queue_claim_idx, the smaller index, then looked cheaper than job_queue_fair_idx, so each scan walked
 * the queue's whole claim index. Here that state is made as the benchmark met it, and every fair statement
 * must walk the fair index alone: counted as the entries each index returned to the transaction's scans
 * ({@link IndexEntries}), over twelve runs: custom plans on unnamed statements, then on the statement pgjdbc
 * prepares on the server (from the fifth run), then, with {@code plan_cache_mode = force_generic_plan},
 * PostgreSQL's generic plan.
 */
@PostgresTest
class FairPlanTest {

    private static final int KEYS = 100;
    /** Runs of each statement: from the ninth on, PostgreSQL's generic plan. */
    private static final int RUNS = 12;
    private static final String TYPE = "fair-job";

    private final TestDatabase db;
    private final JdbiJobStore store;

    FairPlanTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
    }

    /**
     * 20,000 keyed jobs, all finished; 300 pending, analyzed, then gone and analyzed again (the statistics
     * now say nothing is pending); then 300 pending jobs over 100 keys, not analyzed.
     */
    @BeforeEach
    void statisticsThatSawNothingPending() {
        db.execute("TRUNCATE job_queue CASCADE"); // the indexes empty, as each test's plans depend on their sizes
        db.execute("DELETE FROM job_queue_policy");
        store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("default", null, null, null, null, true))));
        db.execute("INSERT INTO job_queue (job_type, partition_key) SELECT '" + TYPE + "', 'key-' || (g % " + KEYS + ")"
                + " FROM generate_series(1, 20000) g");
        db.execute("UPDATE job_queue SET status = 'completed', completed_at = now()");
        insertPending();
        db.execute("VACUUM ANALYZE job_queue");
        db.execute("DELETE FROM job_queue WHERE status = 'pending'");
        db.execute("VACUUM ANALYZE job_queue");
        insertPending();
    }

    private void insertPending() {
        db.execute("INSERT INTO job_queue (job_type, partition_key, run_at) SELECT '" + TYPE + "', 'key-' || (g % " + KEYS + "),"
                + " now() - interval '1 hour' FROM generate_series(1, 300) g");
    }

    @Test
    void aFairClaim_walksTheFairIndexAlone_fromItsFirstRunToItsGenericPlan() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false); // the counts are the transaction's; the claims stay uncommitted
            JdbiJobStore bound = store.bound(c);
            Set<UUID> claimed = new HashSet<>();
            for (int run = 1; run <= RUNS; run++) {
                genericPlansFrom(c, run);
                long claimIndex = returned(c, "job_queue_claim_idx");
                long fairIndex = returned(c, "job_queue_fair_idx");
                List<ClaimedJob> jobs = bound.jobClaim(new ClaimParams("default", Set.of(TYPE), 10, "w", UUID.randomUUID(),
                        Duration.ofMinutes(5), null));
                assertThat(jobs).as("claim %s", run).hasSize(10);
                jobs.forEach(job -> assertThat(claimed.add(job.id())).isTrue());
                assertThat(returned(c, "job_queue_claim_idx") - claimIndex)
                        .as("claim index entries fair claim %s walked", run).isZero();
                assertThat(returned(c, "job_queue_fair_idx") - fairIndex)
                        .as("fair index entries fair claim %s walked", run).isPositive();
            }
            c.rollback();
        }
    }

    @Test
    void aClaimPastTheFloors_andASweep_walkTheFairIndexAlone() throws SQLException {
        NamedSql past = QueuePolicies.claimFairStatement(db.schema(), true);
        NamedSql sweep = QueuePolicies.claimFairSweepStatement(db.schema());
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            for (int run = 1; run <= RUNS; run++) {
                genericPlansFrom(c, run);
                long claimIndex = returned(c, "job_queue_claim_idx");
                int rows = 0;
                try (PreparedStatement ps = c.prepareStatement(past.jdbc())) {
                    String[] keys = {"key-" + run, "key-" + (run + 10)};
                    past.bind(ps).setInstant("now", null)
                            .setString("queue", "default")
                            .setArray("types", c.createArrayOf("text", new String[] {TYPE}))
                            .setInt("limit", 2)
                            .setLong("byte_budget", Long.MAX_VALUE)
                            .setString("lease_owner", "w")
                            .setObject("lease_token", UUID.randomUUID())
                            .setLong("lease_micros", 300_000_000L)
                            .setArray("keys", c.createArrayOf("text", keys))
                            .setArray("floor_priorities", c.createArrayOf("int4", new Integer[] {0, 0}))
                            .setArray("floor_run_ats", c.createArrayOf("text", new String[] {"2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"}))
                            .setArray("floor_ids", c.createArrayOf("uuid", new UUID[] {new UUID(0, 0), new UUID(0, 0)}));
                    try (ResultSet rs = QueuePolicies.fairRows(ps)) {
                        while (rs.next()) {
                            rows++;
                        }
                    }
                }
                assertThat(rows).as("jobs claim %s past the floors took", run).isEqualTo(2);
                try (PreparedStatement ps = c.prepareStatement(sweep.jdbc())) {
                    sweep.bind(ps).setInstant("now", null)
                            .setString("queue", "default")
                            .setArray("types", c.createArrayOf("text", new String[] {TYPE}))
                            .setInt("limit", KEYS)
                            .setString("cursor", null);
                    rows = 0;
                    try (ResultSet rs = QueuePolicies.fairRows(ps)) {
                        while (rs.next()) {
                            rows++;
                        }
                    }
                }
                assertThat(rows).as("keys sweep %s found", run).isEqualTo(KEYS);
                assertThat(returned(c, "job_queue_claim_idx") - claimIndex)
                        .as("claim index entries claim %s past the floors and its sweep walked", run).isZero();
            }
            c.rollback();
        }
    }

    /**
     * In autocommit (a worker's claims), the statement between fair-plan-begin.sql and fair-plan-end.sql
     * runs with sorting and JIT off from its first run on, also where pgjdbc first describes it (a
     * parameter of no stated type, a text column in its reply), and the connection has its own settings
     * after. Here the statement reports the settings it ran with.
     */
    @Test
    void inAutocommit_theStatementBetweenRunsWithTheSettings_andTheConnectionKeepsItsOwn() throws SQLException {
        NamedSql reporting = QueuePolicies.fairPlan(db.schema(), "SELECT pg_catalog.current_setting('enable_sort'),"
                + " pg_catalog.current_setting('jit'), CAST(:now AS timestamptz)");
        try (Connection c = db.dataSource().getConnection()) {
            assertThat(c.getAutoCommit()).isTrue();
            String sort = setting(c, "enable_sort");
            String jit = setting(c, "jit");
            for (int run = 1; run <= RUNS; run++) {
                List<String> ranWith = Transactions.inOne(c, () -> {
                    try (PreparedStatement ps = c.prepareStatement(reporting.jdbc())) {
                        reporting.bind(ps).setInstant("now", null);
                        try (ResultSet rs = QueuePolicies.fairRows(ps)) {
                            rs.next();
                            return List.of(rs.getString(1), rs.getString(2));
                        }
                    }
                });
                assertThat(ranWith).as("enable_sort and jit in run %s", run).containsExactly("off", "off");
                assertThat(c.getAutoCommit()).isTrue();
                assertThat(List.of(setting(c, "enable_sort"), setting(c, "jit"))).containsExactly(sort, jit);
            }
        }
    }

    /** Sorting and JIT are off for the fair statement alone: the caller's transaction goes on with its own. */
    @Test
    void theCallersTransaction_keepsItsOwnSettings() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            String sort = setting(c, "enable_sort");
            String jit = setting(c, "jit");
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL jit = " + ("on".equals(jit) ? "off" : "on"));
            }
            List<ClaimedJob> jobs = store.bound(c).jobClaim(new ClaimParams("default", Set.of(TYPE), 10, "w",
                    UUID.randomUUID(), Duration.ofMinutes(5), null));
            assertThat(jobs).hasSize(10);
            assertThat(setting(c, "enable_sort")).isEqualTo(sort);
            assertThat(setting(c, "jit")).isEqualTo("on".equals(jit) ? "off" : "on");
            c.rollback();
            assertThat(setting(c, "jit")).isEqualTo(jit);
        }
    }

    /** From run 9 on, {@code plan_cache_mode = force_generic_plan} for the rest of {@code c}'s transaction. */
    private static void genericPlansFrom(Connection c, int run) throws SQLException {
        if (run == 9) {
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL plan_cache_mode = force_generic_plan");
            }
        }
    }

    private long returned(Connection c, String index) throws SQLException {
        return IndexEntries.returned(c, db.schema(), index);
    }

    private static String setting(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.current_setting(?)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
