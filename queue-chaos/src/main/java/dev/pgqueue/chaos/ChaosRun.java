package dev.pgqueue.chaos;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chaos harness: starts a PostgreSQL of its own and K worker JVMs ({@link ChaosWorkerMain}),
 * enqueues N mixed jobs while it kills workers (SIGKILL, replaced at once), terminates every
 * worker connection, pauses a worker past its lease (SIGSTOP, then SIGCONT), and crashes the
 * server ({@code pg_ctl restart -m immediate}); waits until every job is final, then has
 * {@link ChaosCheck} verify the outcome. {@code main} exits 1 on any violation.
 *
 * <pre>java -cp … dev.pgqueue.chaos.ChaosRun [ci|full]</pre>
 */
public final class ChaosRun {

    private static final Logger log = LoggerFactory.getLogger(ChaosRun.class);
    static final String SCHEMA = "chaos";
    private static final int BATCH = 50;

    private final ChaosConfig config;
    private final Random random = new Random();
    private final Path eventsDir;
    private final Map<String, Process> workers = new ConcurrentHashMap<>();
    private final Set<UUID> confirmed = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> resumedAt = new ConcurrentHashMap<>();
    private final List<ChaosCheck.Zombie> zombies = new ArrayList<>();
    private final List<String> timeline = new ArrayList<>();
    private int workerSeq;
    private int kills;
    private int drops;
    private int crashes;
    private int producerRetries;
    private OwnPostgres server;
    private Jdbi jdbi;
    private long startedNanos;

    private ChaosRun(ChaosConfig config) throws IOException {
        this.config = config;
        this.eventsDir = Files.createTempDirectory("pgqueue-chaos-events-");
    }

    public static void main(String[] args) throws Exception {
        ChaosConfig config = ChaosConfig.named(args.length > 0 ? args[0] : "ci");
        ChaosCheck.Report report = run(config);
        System.exit(report.violations().isEmpty() ? 0 : 1);
    }

    /** Runs the whole experiment and returns what the check found; prints the report table. */
    public static ChaosCheck.Report run(ChaosConfig config) throws Exception {
        return new ChaosRun(config).run();
    }

    private ChaosCheck.Report run() throws Exception {
        server = OwnPostgres.start(List.of());
        Thread cleanUp = new Thread(() -> {
            workers.values().forEach(Process::destroyForcibly);
            server.close();
        }, "chaos-clean-up");
        Runtime.getRuntime().addShutdownHook(cleanUp);
        HikariConfig poolConfig = new HikariConfig();
        poolConfig.setJdbcUrl(server.jdbcUrl());
        poolConfig.addDataSourceProperty("ApplicationName", "chaos-harness");
        poolConfig.setMaximumPoolSize(4);
        poolConfig.setConnectionTimeout(5_000);
        try (HikariDataSource pool = new HikariDataSource(poolConfig)) {
            jdbi = Jdbi.create(pool);
            JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(SCHEMA).build();
            jdbi.useHandle(h -> h.execute("CREATE TABLE " + SCHEMA + ".chaos_ledger ("
                    + " job_id uuid NOT NULL, attempt int NOT NULL, worker text NOT NULL, note text NOT NULL,"
                    + " started_at timestamptz NOT NULL, finished_at timestamptz NOT NULL)"));
            startedNanos = System.nanoTime();
            for (int i = 0; i < config.workers(); i++) {
                startWorker();
            }
            Thread producer = new Thread(() -> produce(JdbiJobQueue.create(store)), "chaos-producer");
            producer.start();
            injectFaults();
            producer.join();
            note("all " + confirmed.size() + " jobs enqueued");
            boolean drained = awaitDrained();
            note(drained ? "every job is final" : "timed out waiting for every job to be final");
            stopWorkers();
            long elapsed = System.nanoTime() - startedNanos;
            ChaosCheck.Report report = new ChaosCheck(jdbi, SCHEMA, eventsDir, confirmed, zombies).check(
                    new ChaosCheck.Faults(config, kills, drops, crashes, zombies.size(), producerRetries,
                            Duration.ofNanos(elapsed)));
            System.out.println(String.join("\n", timeline));
            System.out.println(report.table());
            Path out = Path.of("target", "chaos-" + config.name() + "-report.md");
            if (Files.isDirectory(out.getParent())) {
                Files.writeString(out, String.join("\n", timeline) + "\n\n" + report.table() + "\n");
            }
            if (report.violations().isEmpty()) {
                deleteTree(eventsDir);
            } else {
                System.out.println("worker logs and event logs kept in " + eventsDir);
            }
            return report;
        } finally {
            workers.values().forEach(Process::destroyForcibly);
            server.close();
            Runtime.getRuntime().removeShutdownHook(cleanUp);
        }
    }

    // ---- producer ----------------------------------------------------------------------------

    private void produce(JdbiJobQueue queue) {
        long pauseNanos = config.produceFor().toNanos() / Math.max(1, config.jobs() / BATCH);
        int seq = 0;
        while (seq < config.jobs()) {
            long next = System.nanoTime() + pauseNanos;
            List<ChaosJob> batch = new ArrayList<>();
            for (int i = 0; i < BATCH && seq < config.jobs(); i++) {
                batch.add(newJob(seq++));
            }
            for (int attempt = 1; ; attempt++) {
                try {
                    List<ChaosJob> normal = batch.stream().filter(j -> !j.kind().equals("DOOMED")).toList();
                    List<ChaosJob> doomed = batch.stream().filter(j -> j.kind().equals("DOOMED")).toList();
                    // Two statements: a failure between them re-sends only what was not confirmed.
                    if (!normal.isEmpty()) {
                        confirmed.addAll(queue.enqueueAll(ChaosJob.TYPE, normal,
                                EnqueueOptions.defaults().maxRetries(ChaosJob.MAX_RETRIES)));
                        batch = new ArrayList<>(doomed);
                    }
                    if (!doomed.isEmpty()) {
                        confirmed.addAll(queue.enqueueAll(ChaosJob.TYPE, doomed,
                                EnqueueOptions.defaults().maxRetries(ChaosJob.DOOMED_MAX_RETRIES)));
                    }
                    break;
                } catch (RuntimeException e) {
                    // The server is down (crash) or the commit's fate is unknown: retry; a batch that
                    // did commit after all shows up as extra jobs, which the check also verifies.
                    producerRetries++;
                    if (attempt % 20 == 1) {
                        log.info("producer: enqueue failed ({}); retrying", e.getMessage());
                    }
                    sleep(250);
                }
            }
            sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(next - System.nanoTime())));
        }
    }

    private ChaosJob newJob(int seq) {
        int slot = seq % 20;
        if (slot < 12) {
            return new ChaosJob("FAST", seq, 2 + random.nextInt(25), 0, 0);
        } else if (slot < 14) {
            return new ChaosJob("SLOW", seq, 1_200 + random.nextInt(800), 0, 0);
        } else if (slot < 17) {
            return new ChaosJob("FLAKY", seq, 5, 1 + random.nextInt(2), 0);
        } else if (slot < 18) {
            return new ChaosJob("DOOMED", seq, 5, 0, 0);
        }
        return new ChaosJob("SNOOZER", seq, 5, 0, 1 + random.nextInt(2));
    }

    // ---- faults ------------------------------------------------------------------------------

    private enum Fault { KILL, DROP, CRASH, PAUSE }

    private record Planned(double at, Fault fault) {}

    private void injectFaults() throws Exception {
        List<Planned> plan = new ArrayList<>();
        for (int i = 1; i <= config.kills(); i++) {
            plan.add(new Planned((double) i / (config.kills() + 1), Fault.KILL));
        }
        for (int i = 1; i <= config.connectionDrops(); i++) {
            plan.add(new Planned((i - 0.5) / config.connectionDrops() * 0.8 + 0.05, Fault.DROP));
        }
        for (int i = 1; i <= config.crashes(); i++) {
            plan.add(new Planned((double) i / (config.crashes() + 1) + 0.03, Fault.CRASH));
        }
        for (int i = 1; i <= config.pauses(); i++) {
            plan.add(new Planned((i - 0.5) / config.pauses() * 0.8 + 0.12, Fault.PAUSE));
        }
        plan.sort(Comparator.comparingDouble(Planned::at));
        long window = config.produceFor().toNanos();
        for (Planned planned : plan) {
            long due = startedNanos + (long) (planned.at() * window);
            sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(due - System.nanoTime())));
            switch (planned.fault()) {
                case KILL -> kill();
                case DROP -> dropConnections();
                case CRASH -> crash();
                case PAUSE -> pause();
            }
        }
    }

    private void kill() throws Exception {
        // Not a worker just resumed from a pause: it must live to try (and fail) to record its late outcomes.
        long now = System.nanoTime();
        List<String> ids = new ArrayList<>(workers.keySet().stream()
                .filter(id -> !resumedAt.containsKey(id) || now - resumedAt.get(id) > TimeUnit.SECONDS.toNanos(5))
                .toList());
        String victim = ids.get(random.nextInt(ids.size()));
        Process process = workers.remove(victim);
        int held = countProcessing(victim);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        kills++;
        note("SIGKILL " + victim + " (pid " + process.pid() + ", holding " + held + " jobs); replaced by " + startWorker());
    }

    private void dropConnections() {
        long terminated = withRetry(() -> jdbi.withHandle(h -> h.createQuery(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'chaos-worker-%'")
                .mapTo(Long.class).one()));
        drops++;
        note("terminated all " + terminated + " worker connections");
    }

    private void crash() {
        long before = System.nanoTime();
        server.crash();
        crashes++;
        note("crashed the server (pg_ctl restart -m immediate); back after "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before) + " ms");
    }

    /** How long after SIGSTOP the paused worker's held jobs are read: a statement it sent before has committed. */
    private static final long ZOMBIE_SETTLE_MILLIS = 1_000;

    /**
     * SIGSTOPs the worker holding the most slow jobs, waits until other workers have rescued and
     * finished every job it held, then SIGCONTs it: a zombie whose late outcomes must be fenced out.
     */
    private void pause() throws Exception {
        String zombie = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (zombie == null && System.nanoTime() < deadline) {
            zombie = withRetry(() -> jdbi.withHandle(h -> h.createQuery(
                            "SELECT lease_owner FROM " + SCHEMA + ".job_queue WHERE status = 'processing'"
                                    + " AND payload->>'kind' = 'SLOW' GROUP BY lease_owner ORDER BY count(*) DESC LIMIT 1")
                    .mapTo(String.class).findOne().orElse(null)));
            if (zombie == null || !workers.containsKey(zombie)) {
                zombie = null;
                sleep(100);
            }
        }
        if (zombie == null) {
            throw new IllegalStateException("no worker held a slow job to pause");
        }
        Process process = workers.get(zombie);
        signal("STOP", process.pid());
        long pausedAt = System.nanoTime();
        // A statement the worker sent just before the signal still commits: its completer's batch in
        // flight records those jobs' outcomes under their live leases, legitimately. Read what it holds
        // once that has settled, well within the lease, so that only attempts the pause cut off count as
        // the zombie's (a run once failed here on 5 jobs whose outcomes were such a batch).
        sleep(ZOMBIE_SETTLE_MILLIS);
        String owner = zombie;
        List<Map<String, Object>> held = withRetry(() -> jdbi.withHandle(h -> h.createQuery(
                        "SELECT id, attempt, lease_token FROM " + SCHEMA + ".job_queue WHERE status = 'processing' AND lease_owner = ?")
                .bind(0, owner).mapToMap().list()));
        List<ChaosCheck.Held> attempts = held.stream()
                .map(r -> new ChaosCheck.Held((UUID) r.get("id"), (Integer) r.get("attempt"), (UUID) r.get("lease_token")))
                .toList();
        Set<UUID> ids = ConcurrentHashMap.newKeySet();
        attempts.forEach(a -> ids.add(a.job()));
        // Until each job it held has been rescued, run again elsewhere and finished.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            long open = withRetry(() -> jdbi.withHandle(h -> h.createQuery(
                            "SELECT count(*) FROM " + SCHEMA + ".job_queue WHERE id = ANY(?) AND status NOT IN ('completed', 'failed')")
                    .bind(0, ids.toArray(UUID[]::new)).mapTo(Long.class).one()));
            if (open == 0) {
                break;
            }
            sleep(200);
        }
        long pausedFor = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pausedAt);
        signal("CONT", process.pid());
        resumedAt.put(zombie, System.nanoTime());
        zombies.add(new ChaosCheck.Zombie(zombie, attempts));
        note("SIGSTOP " + zombie + " holding " + attempts.size() + " jobs for " + pausedFor
                + " ms (lease " + ChaosWorkerMain.LEASE.toMillis() + " ms) until others rescued and finished them; SIGCONT");
    }

    private String startWorker() throws IOException {
        String id = "w" + (++workerSeq);
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        "-cp", classpath,
                        ChaosWorkerMain.class.getName(),
                        server.jdbcUrl(), SCHEMA, id, eventsDir.toString())
                .redirectErrorStream(true)
                .redirectOutput(eventsDir.resolve(id + ".log").toFile())
                .start();
        workers.put(id, process);
        return id;
    }

    private void stopWorkers() throws InterruptedException {
        workers.values().forEach(Process::destroy); // SIGTERM: graceful close
        for (Process process : workers.values()) {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private boolean awaitDrained() {
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        while (System.nanoTime() < deadline) {
            long open = withRetry(() -> jdbi.withHandle(h -> h.createQuery(
                    "SELECT count(*) FROM " + SCHEMA + ".job_queue WHERE status NOT IN ('completed', 'failed')")
                    .mapTo(Long.class).one()));
            if (open == 0) {
                return true;
            }
            sleep(500);
        }
        return false;
    }

    private int countProcessing(String worker) {
        return withRetry(() -> jdbi.withHandle(h -> h.createQuery(
                        "SELECT count(*) FROM " + SCHEMA + ".job_queue WHERE status = 'processing' AND lease_owner = ?")
                .bind(0, worker).mapTo(Integer.class).one()));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
        }
    }

    private void note(String event) {
        String line = String.format("%7.1f s  %s", (System.nanoTime() - startedNanos) / 1e9, event);
        timeline.add(line);
        log.info(line);
    }

    /** The harness's own queries ride out the server crash too. */
    private static <T> T withRetry(java.util.function.Supplier<T> query) {
        RuntimeException last = null;
        for (int i = 0; i < 60; i++) {
            try {
                return query.get();
            } catch (RuntimeException e) {
                last = e;
                sleep(500);
            }
        }
        throw last;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
