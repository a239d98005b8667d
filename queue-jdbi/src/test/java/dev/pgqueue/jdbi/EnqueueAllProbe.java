package dev.pgqueue.jdbi;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobType;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * A timed script, not a test: bulk enqueue of plain jobs through insert-many.sql against COPY
 * ({@link CopyInsert}), at several batch sizes, the figures behind {@link CopyInsert#DEFAULT_THRESHOLD}.
 * Run by hand (the server CPU column needs the server on this machine, readable /proc):
 *
 * <pre>
 * mvn -q -o -pl queue-jdbi -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp queue-jdbi/target/test-classes:queue-jdbi/target/classes:queue-core/target/classes:$(cat /tmp/cp.txt) \
 *      dev.pgqueue.jdbi.EnqueueAllProbe 'jdbc:postgresql://127.0.0.1:5432/test?user=postgres' [sizes] [rounds]
 * </pre>
 *
 * Every variant inserts into the same job_queue (schema {@value #SCHEMA}, created and dropped here),
 * emptied before each measurement, on one pooled connection; each measurement inserts about 20,000
 * jobs in batches of the given size, and the variants take turns in a rotating order, round after
 * round (the first round warms up). Reported: median jobs/s (wall clock), and median CPU per job of
 * the server backend and of this thread, which a busy machine disturbs less than the wall clock.
 *
 * <ul>
 *   <li>{@code raw INSERT}: insert-many.sql, bound and run by hand in autocommit mode: the bulk
 *       insert this store made before COPY, without the store around it.
 *   <li>{@code raw COPY}: COPY straight into job_queue with created_at and run_at computed here (not
 *       the store's semantics: the ceiling).
 *   <li>{@code store INSERT}, {@code store COPY}: {@link JdbiJobStore#jobInsertMany}, the same
 *       prepared jobs, forced through insert-many.sql or through COPY.
 *   <li>{@code enqueueAll INSERT}, {@code enqueueAll}: {@link JdbiJobQueue#enqueueAll} with payloads
 *       to serialize, forced through insert-many.sql or with the default threshold.
 * </ul>
 */
public final class EnqueueAllProbe {

    record Image(String imageId, int n) {}

    static final JobType<Image> IMAGE = JobType.of("generate-image", Image.class);
    static final String SCHEMA = "enqueue_probe";
    static final int JOBS_PER_MEASUREMENT = 20_000;
    static final List<String> VARIANTS = List.of(
            "raw INSERT", "raw COPY", "store INSERT", "store COPY", "enqueueAll INSERT", "enqueueAll");

    private final HikariDataSource pool;
    private final JdbiJobStore insertStore;
    private final JdbiJobStore copyStore;
    private final JdbiJobQueue insertQueue;
    private final JdbiJobQueue defaultQueue;
    private final NamedSql insertMany = SqlFiles.loadNamed("insert-many", SCHEMA);
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long backendPid;

    private EnqueueAllProbe(String url) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(1); // every variant on the same backend, whose CPU time is read
        pool = new HikariDataSource(config);
        Jdbi jdbi = Jdbi.create(pool);
        execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
        insertStore = JdbiJobStore.builder(jdbi).schema(SCHEMA).notifications(false).copyThreshold(Integer.MAX_VALUE).build();
        copyStore = JdbiJobStore.builder(jdbi).schema(SCHEMA).notifications(false).copyThreshold(1).build();
        insertQueue = JdbiJobQueue.create(insertStore);
        defaultQueue = JdbiJobQueue.create(JdbiJobStore.builder(jdbi).schema(SCHEMA).notifications(false).build());
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int[] sizes = Arrays.stream((args.length > 1 ? args[1] : "500,1000,2000,5000,10000,20000").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        EnqueueAllProbe probe = new EnqueueAllProbe(url);
        try {
            probe.run(sizes, rounds);
        } finally {
            probe.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            probe.pool.close();
        }
    }

    private void run(int[] sizes, int rounds) throws Exception {
        try (Connection c = pool.getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            backendPid = rs.getLong(1);
        }
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int round = 0; round <= rounds; round++) {
            for (int size : sizes) {
                List<String> order = new ArrayList<>(VARIANTS);
                Collections.rotate(order, round);
                for (String variant : order) {
                    double[] figures = measure(variant, size);
                    if (round > 0) {
                        results.computeIfAbsent(variant + "@" + size, k -> new ArrayList<>()).add(figures);
                    }
                }
            }
        }
        String[] titles = {"jobs/s, wall clock", "server CPU, us per job", "client CPU, us per job"};
        for (int figure = 0; figure < titles.length; figure++) {
            System.out.printf("%n%s (median of %d rounds)%n%-18s", titles[figure], rounds, "batch size");
            for (int size : sizes) {
                System.out.printf(" %8d", size);
            }
            System.out.println();
            for (String variant : VARIANTS) {
                System.out.printf("%-18s", variant);
                for (int size : sizes) {
                    int f = figure;
                    double[] values = results.get(variant + "@" + size).stream().mapToDouble(r -> r[f]).sorted().toArray();
                    System.out.printf(figure == 0 ? " %8.0f" : " %8.2f", values[values.length / 2]);
                }
                System.out.println();
            }
        }
    }

    /** Jobs/s, server CPU µs per job, client CPU µs per job. */
    private double[] measure(String variant, int size) throws Exception {
        execute("TRUNCATE " + SCHEMA + ".job_queue");
        int batches = Math.max(1, JOBS_PER_MEASUREMENT / size);
        List<List<NewJob>> jobs = new ArrayList<>();
        List<List<Image>> payloads = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            List<NewJob> batch = new ArrayList<>(size);
            List<Image> images = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                Image image = new Image(UUID.randomUUID().toString(), i);
                images.add(image);
                batch.add(NewJob.builder(UuidV7.next(), IMAGE.name(),
                        "{\"n\": " + i + ", \"imageId\": \"" + image.imageId() + "\"}").build());
            }
            jobs.add(batch);
            payloads.add(images);
        }
        long server = serverNanos();
        long client = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        for (int b = 0; b < batches; b++) {
            switch (variant) {
                case "raw INSERT" -> rawInsert(jobs.get(b));
                case "raw COPY" -> rawCopy(jobs.get(b));
                case "store INSERT" -> insertStore.jobInsertMany(new InsertParams(jobs.get(b), null));
                case "store COPY" -> copyStore.jobInsertMany(new InsertParams(jobs.get(b), null));
                case "enqueueAll INSERT" -> insertQueue.enqueueAll(IMAGE, payloads.get(b), EnqueueOptions.defaults());
                case "enqueueAll" -> defaultQueue.enqueueAll(IMAGE, payloads.get(b), EnqueueOptions.defaults());
                default -> throw new IllegalArgumentException(variant);
            }
        }
        long wall = System.nanoTime() - start;
        double total = (double) batches * size;
        return new double[] {
            total / (wall / 1e9),
            (serverNanos() - server) / 1e3 / total,
            (threads.getCurrentThreadCpuTime() - client) / 1e3 / total
        };
    }

    private void rawInsert(List<NewJob> jobs) throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(insertMany.jdbc())) {
            JobStatements.bindColumns(c, insertMany.bind(ps).setInstant("now", null), jobs);
            ps.executeUpdate();
        }
    }

    /** COPY in text format straight into job_queue; created_at and run_at from this machine's clock. */
    private void rawCopy(List<NewJob> jobs) throws SQLException {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        StringBuilder rows = new StringBuilder(jobs.size() * 160);
        for (NewJob job : jobs) {
            rows.append(job.id()).append('\t').append(job.type()).append('\t').append(job.queue()).append('\t');
            for (char ch : job.payloadJson().toCharArray()) {
                switch (ch) {
                    case '\\' -> rows.append("\\\\");
                    case '\n' -> rows.append("\\n");
                    case '\r' -> rows.append("\\r");
                    case '\t' -> rows.append("\\t");
                    default -> rows.append(ch);
                }
            }
            rows.append('\t').append(job.priority()).append('\t')
                    .append(job.runAt() != null ? job.runAt() : now.plus(job.delay())).append('\t')
                    .append(job.maxRetries()).append('\t')
                    .append(job.userId() == null ? "\\N" : job.userId().toString()).append('\t')
                    .append(now).append('\n');
        }
        byte[] bytes = rows.toString().getBytes(StandardCharsets.UTF_8);
        try (Connection c = pool.getConnection()) {
            CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + SCHEMA + ".job_queue"
                    + " (id, job_type, queue, payload, priority, run_at, max_retries, user_id, created_at) FROM STDIN");
            in.writeToCopy(bytes, 0, bytes.length);
            in.endCopy();
        }
    }

    private long serverNanos() throws IOException {
        Path schedstat = Path.of("/proc/" + backendPid + "/schedstat");
        if (!Files.isReadable(schedstat)) {
            return 0; // server elsewhere: the column reads 0
        }
        return Long.parseLong(Files.readString(schedstat).trim().split(" ")[0]);
    }

    private void execute(String sql) {
        try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
