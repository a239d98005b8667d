package dev.pgqueue.bench;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * pgqueue side by side with a raw-JDBC ceiling on the same PostgreSQL; see the module's README. Runs
 * the chosen workloads' configurations in interleaved rounds (round 1: A B C ..., round 2: A B C ...)
 * so that slow drifts of a noisy machine hit every system alike; each measurement in a database
 * created for it and dropped afterwards. Prints a table of medians on stdout, writes every value to
 * a CSV file, logs progress on stderr. Run with {@code --help}.
 */
public final class Benchmark {

    /** Warm-up rounds end once the JIT compilers take less than this share of a round's CPU. */
    static final double JIT_SETTLED_SHARE = 0.05;
    /** The most warm-up rounds, settled or not. */
    static final int MAX_WARM_UP_ROUNDS = 6;
    private static final DateTimeFormatter FILE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private Benchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals(MemoryRun.CHILD_COMMAND)) {
            System.exit(MemoryRun.child(Arrays.copyOfRange(args, 1, args.length)));
        }
        if (args.length > 0 && args[0].equals(FreshJvm.CHILD_COMMAND)) {
            System.exit(FreshJvm.child(Arrays.copyOfRange(args, 1, args.length)));
        }
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.out.print(Options.USAGE);
            return;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage() + "\n\n" + Options.USAGE);
            System.exit(2);
            return;
        }
        System.exit(run(options, List.of(args)));
    }

    /**
     * Returns the exit status: 0 when every measurement succeeded. {@code args}, the command line,
     * goes to each fresh child JVM, which rebuilds the same plan from it.
     */
    static int run(Options options, List<String> args) throws Exception {
        Instant started = Instant.now();
        Path csv = options.csv() != null ? options.csv() : resultsDir().resolve(FILE_TIME.format(started) + ".csv");
        String base = csv.toString().replaceFirst("\\.csv$", "");
        Plan plan = Plan.of(options, Path.of(base));
        try (Server server = Server.open(options.jdbcUrl())) {
            String settings = server.settings();
            boolean autovacuum = !settings.contains("autovacuum=off");
            if (!autovacuum) {
                Log.info("note: autovacuum is OFF on this server: figures not for publishing; long drains (memory) "
                        + "will slow down as dead rows pile up");
            }
            String mode = options.warm() ? "warm: every measurement in this JVM" + (options.warmup() ? ", after warm-up rounds until the JIT settled" : "")
                    : "fresh JVM per measurement (start-up inside the clock)";
            List<String> comments = List.of(
                    "pgqueue-benchmarks started " + started,
                    "server: " + server.describe() + ": " + server.version(),
                    "server settings: " + settings,
                    "autovacuum: " + (autovacuum ? "on" : "OFF"),
                    "mode: " + mode,
                    "java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                            + ", " + Runtime.getRuntime().availableProcessors() + " cores, max heap "
                            + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB",
                    "options: workloads " + options.workloads() + ", runs " + options.runs()
                            + (options.quick() ? ", quick" : "") + (options.sweep() ? ", sweep" : "")
                            + (options.warm() ? ", warm" : ", fresh JVMs") + ", w5r rate " + options.rate()
                            + ", w5max rates " + options.rateFrom() + ".." + options.rateMax() + " step " + options.rateStep()
                            + (options.systems().isEmpty() ? "" : ", systems " + options.systems()),
                    "sizes: " + options.sizes());
            Log.info("pgqueue benchmarks on %s; %d configurations x %d runs; %s; autovacuum %s; CSV %s; this run's databases: %s*",
                    server.describe(), plan.cases().size(), options.runs(), mode, autovacuum ? "on" : "OFF", csv, server.runPrefix());
            Plan warmup = Plan.warmup(options);
            if (options.warmup() && !warmup.cases().isEmpty()) {
                warmUp(server, warmup);
            }
            int failed = 0;
            try (Results results = Results.open(csv, comments)) {
                int total = plan.cases().size() * options.runs();
                int done = 0;
                for (int run = 1; run <= options.runs(); run++) {
                    for (Plan.Case c : plan.cases()) {
                        Log.info("[%d/%d] %s %s, run %d", ++done, total, c.workload(), c.system(), run);
                        Optional<List<Metric>> metrics = options.warm() || c.workload().equals("memory")
                                ? measure(server, c, run, options.jfrDir())
                                : measureFresh(server, c, run, args, options.jfrDir());
                        results.add(c.system(), c.workload(), run, metrics.orElse(List.of(new Metric("error", 1))));
                        if (metrics.isEmpty()) {
                            failed++;
                        }
                    }
                }
                System.out.println();
                System.out.println("server: " + server.version());
                System.out.println("autovacuum: " + (autovacuum ? "on" : "OFF (figures not for publishing)") + "; " + mode);
                System.out.println();
                results.printSummary(System.out, plan.ratios());
            }
            Log.info("done in %.0f s; %d measurements failed; CSV %s",
                    (Instant.now().toEpochMilli() - started.toEpochMilli()) / 1000.0, failed, csv);
            return failed == 0 ? 0 : 1;
        }
    }

    /**
     * Warm-up rounds, not recorded, until the JIT compilers took less than {@link #JIT_SETTLED_SHARE}
     * of a round's CPU (at most {@link #MAX_WARM_UP_ROUNDS}): one round of 2,000 jobs left pgqueue's
     * W5 still compiling through the next two measured runs (3.3 and 1.3 s of compiler CPU in 17 and
     * 14 s), so a "warm" median was part JIT.
     */
    private static void warmUp(Server server, Plan warmup) {
        for (int round = 1; round <= MAX_WARM_UP_ROUNDS; round++) {
            Log.info("warm-up round %d (not recorded): %d configurations", round, warmup.cases().size());
            Map<String, Double> before = ThreadCpu.byGroup();
            long processBefore = Cpu.processNanos();
            for (Plan.Case c : warmup.cases()) {
                Log.info("[warm-up] %s %s", c.workload(), c.system());
                measure(server, c, 0, null);
            }
            // The process's CPU, since the workers' threads have ended; the compilers' threads live on.
            double all = (Cpu.processNanos() - processBefore) / 1e9;
            double compilers = 0;
            for (Map.Entry<String, Double> group : ThreadCpu.byGroup().entrySet()) {
                if (group.getKey().contains("CompilerThre")) {
                    compilers += group.getValue() - before.getOrDefault(group.getKey(), 0.0);
                }
            }
            Log.info("warm-up round %d: the JIT compilers took %.2f of %.2f s of CPU", round, compilers, all);
            if (all == 0 || compilers < JIT_SETTLED_SHARE * all) {
                return; // settled (or no /proc to tell)
            }
        }
        Log.info("note: the JIT had not settled after %d warm-up rounds", MAX_WARM_UP_ROUNDS);
    }

    /** One measurement in a fresh database; empty if it failed (logged). */
    private static Optional<List<Metric>> measure(Server server, Plan.Case c, int run, Path jfrDir) {
        Recording recording = jfrDir == null ? null : startRecording(c, run);
        try (Server.Fresh database = server.fresh(c.database())) {
            List<Metric> metrics = c.measure().run(database.url(), run);
            StringBuilder line = new StringBuilder();
            metrics.forEach(m -> line.append(" ").append(m.name()).append('=').append(Results.format(m.value())));
            Log.info(" %s", line);
            return Optional.of(metrics);
        } catch (Exception e) {
            Log.info("  FAILED: %s", e);
            e.printStackTrace();
            return Optional.empty();
        } finally {
            if (recording != null) {
                stopRecording(recording, jfrDir.resolve(c.system() + "-" + c.workload() + "-run" + run + ".jfr"));
            }
        }
    }

    /** One measurement in a fresh database and a fresh JVM ({@link FreshJvm}); empty if it failed (logged). */
    private static Optional<List<Metric>> measureFresh(Server server, Plan.Case c, int run, List<String> args, Path jfrDir) {
        try (Server.Fresh database = server.fresh(c.database())) {
            Path jfr = jfrDir == null ? null : jfrDir.resolve(c.system() + "-" + c.workload() + "-run" + run + ".jfr");
            List<Metric> metrics = FreshJvm.measure(c, run, database.url(), args, jfr);
            StringBuilder line = new StringBuilder();
            metrics.forEach(m -> line.append(" ").append(m.name()).append('=').append(Results.format(m.value())));
            Log.info(" %s", line);
            return Optional.of(metrics);
        } catch (Exception e) {
            Log.info("  FAILED: %s", e);
            e.printStackTrace();
            return Optional.empty();
        }
    }

    private static Recording startRecording(Plan.Case c, int run) {
        try {
            Recording recording = new Recording(Configuration.getConfiguration("profile"));
            recording.setName(c.system() + "-" + c.workload() + "-run" + run);
            recording.start();
            return recording;
        } catch (Exception e) {
            Log.info("  could not start a JFR recording: %s", e);
            return null;
        }
    }

    private static void stopRecording(Recording recording, Path file) {
        try (recording) {
            recording.stop();
            Files.createDirectories(file.toAbsolutePath().getParent());
            recording.dump(file);
            Log.info("  JFR recording: %s", file);
        } catch (Exception e) {
            Log.info("  could not write the JFR recording %s: %s", file, e);
        }
    }

    /** target/bench-results beside the jar (or the classes folder), else in the working directory. */
    private static Path resultsDir() {
        try {
            Path code = Path.of(Benchmark.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.getParent().resolve("bench-results");
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of("bench-results");
        }
    }
}
