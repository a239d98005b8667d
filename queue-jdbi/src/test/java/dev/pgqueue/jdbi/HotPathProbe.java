package dev.pgqueue.jdbi;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobType;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;

/**
 * A timed script, not a test: what V3 costs the hot path of queues that use none of its features,
 * and what the features cost when used. Run by hand:
 *
 * <pre>
 * mvn -q -o -pl queue-jdbi -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp queue-jdbi/target/test-classes:queue-jdbi/target/classes:queue-core/target/classes:$(cat /tmp/cp.txt) \
 *      dev.pgqueue.jdbi.HotPathProbe 'jdbc:postgresql://127.0.0.1:5432/test?user=postgres' [jobs] [rounds]
 * </pre>
 *
 * Part 1 runs the very same statements (insert-many.sql, claim.sql, complete.sql: unchanged by V3)
 * against two schemas, one migrated to V2 and one to V3, in alternating rounds, and reports the
 * median time per job of each step: the database-side cost of V3 (new columns, checks, triggers,
 * indexes). Part 2 runs through {@link JdbiJobStore} on the V3 schema: the plain claim against a
 * claim under a (never reached) global limit, a fair claim, and completions of jobs that have a
 * dependent.
 */
public final class HotPathProbe {

    record Note(int n) {}

    static final JobType<Note> NOTE = JobType.of("note", Note.class);
    private static final int BATCH = 50;

    private HotPathProbe() {}

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int jobs = args.length > 1 ? Integer.parseInt(args[1]) : 5_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(true);
            prepare(c, "probe_v2", "V1__create_job_queue.sql", "V2__unique_jobs_results_progress.sql");
            prepare(c, "probe_v4", "V1__create_job_queue.sql", "V2__unique_jobs_results_progress.sql",
                    "V3__workflows_limits_fairness.sql");
            Map<String, List<double[]>> results = new LinkedHashMap<>();
            for (String variant : List.of("no user_id", "with user_id")) {
                boolean withUser = variant.equals("with user_id");
                for (int r = 0; r < rounds + 1; r++) {
                    List<String> order = r % 2 == 0 ? List.of("probe_v2", "probe_v4") : List.of("probe_v4", "probe_v2");
                    for (String schema : order) {
                        double[] micros = roundOfRawStatements(c, schema, jobs, withUser);
                        if (r > 0) { // the first round warms up
                            results.computeIfAbsent(schema + ", " + variant, k -> new ArrayList<>()).add(micros);
                        }
                    }
                }
            }
            System.out.printf("%nPart 1: the same SQL (insert-many, claim, complete; batches of %d) on %d jobs, "
                    + "median of %d rounds, microseconds per job%n", BATCH, jobs, rounds);
            System.out.printf("%-28s %10s %10s %10s%n", "schema", "enqueue", "claim", "complete");
            results.forEach((name, list) -> System.out.printf("%-28s %10.1f %10.1f %10.1f%n", name,
                    median(list, 0), median(list, 1), median(list, 2)));
        }

        com.zaxxer.hikari.HikariConfig pool = new com.zaxxer.hikari.HikariConfig();
        pool.setJdbcUrl(url);
        pool.setMaximumPoolSize(2);
        Jdbi jdbi = Jdbi.create(new com.zaxxer.hikari.HikariDataSource(pool));
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema("probe_v4").build();
        JdbiJobQueue queue = JdbiJobQueue.create(store);
        store.policyPutMany(new PolicyParams(List.of(
                new QueuePolicy("limited", null, 1_000_000, null, null, null),
                new QueuePolicy("fair", null, null, null, null, true))));
        Map<String, List<double[]>> api = new LinkedHashMap<>();
        for (int r = 0; r < rounds + 1; r++) {
            for (String queueName : List.of("plain", "limited", "fair")) {
                double[] micros = roundThroughTheStore(jdbi, store, queue, queueName, jobs, false);
                if (r > 0) {
                    api.computeIfAbsent(queueName, k -> new ArrayList<>()).add(micros);
                }
            }
            double[] micros = roundThroughTheStore(jdbi, store, queue, "plain", jobs, true);
            if (r > 0) {
                api.computeIfAbsent("plain, each job with a dependent", k -> new ArrayList<>()).add(micros);
            }
        }
        System.out.printf("%nPart 2: through JdbiJobStore on V3, %d jobs, batches of %d, median of %d rounds, "
                + "microseconds per job%n", jobs, BATCH, rounds);
        System.out.printf("%-34s %10s %10s%n", "queue", "claim", "complete");
        api.forEach((name, list) -> System.out.printf("%-34s %10.1f %10.1f%n", name, median(list, 0), median(list, 1)));
    }

    private static void prepare(Connection c, String schema, String... migrations) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            st.execute("CREATE SCHEMA " + schema);
            st.execute("SET search_path = " + schema);
            for (String migration : migrations) {
                st.execute(SqlFiles.read(SchemaMigrator.LOCATION + migration));
            }
            st.execute("RESET search_path");
        }
    }

    /** Enqueue, claim and complete {@code jobs} jobs with the unchanged statements; microseconds per job of each. */
    private static double[] roundOfRawStatements(Connection c, String schema, int jobs, boolean withUser) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("TRUNCATE " + schema + ".job_queue");
        }
        String insertMany = SqlFiles.loadNamed("insert-many", schema).jdbc(); // each name once: bound by position
        NamedSql claim = JobStatements.claimStatement(schema, JobStatements.ClaimFrom.FRONT);
        String complete = SqlFiles.load("complete", schema);
        long t0 = System.nanoTime();
        for (int from = 0; from < jobs; from += 500) {
            int n = Math.min(500, jobs - from);
            try (PreparedStatement ps = c.prepareStatement(insertMany)) {
                ps.setObject(1, null);
                ps.setArray(2, c.createArrayOf("uuid", IntStream.range(0, n).mapToObj(i -> UuidV7.next()).toArray()));
                ps.setArray(3, c.createArrayOf("text", fill(n, "note")));
                ps.setArray(4, c.createArrayOf("text", fill(n, "default")));
                ps.setArray(5, c.createArrayOf("text", fill(n, "{\"n\": 1}")));
                ps.setArray(6, c.createArrayOf("int4", fill(n, 0)));
                ps.setArray(7, c.createArrayOf("text", new String[n]));
                ps.setArray(8, c.createArrayOf("int8", fill(n, 0L)));
                ps.setArray(9, c.createArrayOf("int4", fill(n, 3)));
                ps.setArray(10, c.createArrayOf("uuid", withUser
                        ? IntStream.range(0, n).mapToObj(i -> UUID.nameUUIDFromBytes(new byte[] {(byte) (i % 7)})).toArray()
                        : new UUID[n]));
                ps.executeUpdate();
            }
        }
        long t1 = System.nanoTime();
        List<UUID[]> claimed = new ArrayList<>();
        long claimNanos = 0;
        long completeNanos = 0;
        while (true) {
            UUID token = UUID.randomUUID();
            List<UUID> ids = new ArrayList<>();
            long s = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement(claim.jdbc())) {
                claim.bind(ps)
                        .setInstant("now", null)
                        .setString("queue", "default")
                        .setArray("types", c.createArrayOf("text", new String[] {"note"}))
                        .setInt("limit", BATCH)
                        .setLong("byte_budget", JobStatements.DEFAULT_CLAIM_BYTE_BUDGET)
                        .setString("lease_owner", "probe")
                        .setObject("lease_token", token)
                        .setLong("lease_micros", 60_000_000L);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        UUID id = rs.getObject(1, UUID.class);
                        if (id != null) { // a claim that took no job returns one row of nulls
                            ids.add(id);
                        }
                    }
                }
            }
            claimNanos += System.nanoTime() - s;
            if (ids.isEmpty()) {
                break;
            }
            s = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement(complete)) {
                ps.setObject(1, null);
                ps.setArray(2, c.createArrayOf("uuid", ids.toArray()));
                UUID[] tokens = new UUID[ids.size()];
                Arrays.fill(tokens, token);
                ps.setArray(3, c.createArrayOf("uuid", tokens));
                ps.setArray(4, c.createArrayOf("text", new String[ids.size()]));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        // drain
                    }
                }
            }
            completeNanos += System.nanoTime() - s;
            claimed.add(ids.toArray(UUID[]::new));
        }
        return new double[] {(t1 - t0) / 1e3 / jobs, claimNanos / 1e3 / jobs, completeNanos / 1e3 / jobs};
    }

    /** Claim and complete through the store; microseconds per job of each. */
    private static double[] roundThroughTheStore(Jdbi jdbi, JdbiJobStore store, JdbiJobQueue queue, String queueName,
            int jobs, boolean withDependents) {
        jdbi.useHandle(h -> {
            h.execute("TRUNCATE probe_v4.job_queue, probe_v4.job_queue_dependency, probe_v4.job_queue_policy_start");
        });
        List<Note> payloads = IntStream.range(0, jobs).mapToObj(Note::new).toList();
        EnqueueOptions options = EnqueueOptions.defaults().queue(queueName);
        if (withDependents) {
            // Each job has one dependent (a callback per job), so that every completion releases one.
            List<UUID> ids = queue.enqueueAll(NOTE, payloads, options);
            for (int from = 0; from < ids.size(); from += 1000) {
                List<UUID> chunk = ids.subList(from, Math.min(ids.size(), from + 1000));
                jdbi.useTransaction(h -> chunk.forEach(id ->
                        queue.in(h).enqueue(JobType.of("callback", Note.class), new Note(0),
                                EnqueueOptions.defaults().queue("callbacks").dependsOn(id))));
            }
        } else if (queueName.equals("fair")) {
            queue.enqueueAll(NOTE, payloads, options.partitionKey("tenant-a"));
            queue.enqueueAll(NOTE, payloads.subList(0, jobs / 10), options.partitionKey("tenant-b"));
        } else {
            queue.enqueueAll(NOTE, payloads, options);
        }
        long claimNanos = 0;
        long completeNanos = 0;
        int done = 0;
        while (true) {
            long s = System.nanoTime();
            List<ClaimedJob> claimed = store.jobClaim(new ClaimParams(queueName, Set.of(NOTE.name()), BATCH, "probe",
                    UUID.randomUUID(), Duration.ofMinutes(1), null));
            claimNanos += System.nanoTime() - s;
            if (claimed.isEmpty()) {
                break;
            }
            s = System.nanoTime();
            store.jobFinishMany(new FinishParams(claimed.stream()
                    .map(j -> new Finish(j.id(), j.leaseToken(), FinishKind.COMPLETE, null, Duration.ZERO)).toList(), null));
            completeNanos += System.nanoTime() - s;
            done += claimed.size();
        }
        return new double[] {claimNanos / 1e3 / done, completeNanos / 1e3 / done};
    }

    private static double median(List<double[]> rows, int column) {
        double[] values = rows.stream().mapToDouble(row -> row[column]).sorted().toArray();
        return values[values.length / 2];
    }

    private static Object[] fill(int n, Object value) {
        Object[] values = new Object[n];
        Arrays.fill(values, value);
        return values;
    }
}
