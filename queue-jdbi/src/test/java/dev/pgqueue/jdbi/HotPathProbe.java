package dev.pgqueue.jdbi;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobType;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;

/**
 * A timed script, not a test: what the claim and its outcome cost per job through {@link JdbiJobStore},
 * for a queue that uses no policy against one under a (never reached) global limit and a fair one, and
 * completions of jobs that have a dependent, in a schema of its own ({@code probe_store}, dropped and
 * migrated at the start). Run by hand:
 *
 * <pre>
 * mvn -q -o -pl queue-jdbi -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp queue-jdbi/target/test-classes:queue-jdbi/target/classes:queue-core/target/classes:$(cat /tmp/cp.txt) \
 *      dev.pgqueue.jdbi.HotPathProbe 'jdbc:postgresql://127.0.0.1:5432/test?user=postgres' [jobs] [rounds]
 * </pre>
 *
 * Until the fair statements' plans were fixed (issue 18) it had a first part that ran the same raw
 * statements on schemas migrated to V2 and to V3 (docs/fairness.md, "Performance of V3"); insert-many.sql
 * has since grown columns of later versions, so that comparison no longer runs.
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
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS probe_store CASCADE");
        }
        com.zaxxer.hikari.HikariConfig pool = new com.zaxxer.hikari.HikariConfig();
        pool.setJdbcUrl(url);
        pool.setMaximumPoolSize(2);
        Jdbi jdbi = Jdbi.create(new com.zaxxer.hikari.HikariDataSource(pool));
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema("probe_store").build(); // migrates it
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
        System.out.printf("%nThrough JdbiJobStore, %d jobs, batches of %d, median of %d rounds, "
                + "microseconds per job%n", jobs, BATCH, rounds);
        System.out.printf("%-34s %10s %10s%n", "queue", "claim", "complete");
        api.forEach((name, list) -> System.out.printf("%-34s %10.1f %10.1f%n", name, median(list, 0), median(list, 1)));
    }

    /** Claim and complete through the store; microseconds per job of each. */
    private static double[] roundThroughTheStore(Jdbi jdbi, JdbiJobStore store, JdbiJobQueue queue, String queueName,
            int jobs, boolean withDependents) {
        jdbi.useHandle(h -> {
            h.execute("TRUNCATE probe_store.job_queue, probe_store.job_queue_dependency, probe_store.job_queue_policy_start");
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
}
