package dev.pgqueue.bench;

import dev.pgqueue.Worker;
import dev.pgqueue.bench.PgQueueSubject.Config;
import dev.pgqueue.bench.PgQueueSubject.Producer;
import dev.pgqueue.bench.RawCeiling.Bulk;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one round measures: every configuration (a system on a workload) in order, and which medians
 * the summary compares. System names are the CSV's {@code system} column.
 */
record Plan(List<Plan.Case> cases, List<Results.Ratio> ratios) {

    /** Measures a system on a workload in the fresh database at {@code url}. */
    @FunctionalInterface
    interface Measure {
        List<Metric> run(String url, int run) throws Exception;
    }

    record Case(String workload, String system, Measure measure) {

        /**
         * The measurement's database within the run, {@code <system>_<workload>} as an identifier;
         * {@link Server#fresh} prefixes it with the run's own prefix.
         */
        String database() {
            return (system + "_" + workload).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        }
    }

    /** Today's pgqueue in issue 18's storage workloads, pruning its completed jobs after 5 s. */
    private static final String PRUNED_5S = "pgqueue-pruned-5s";
    /**
     * {@link #PRUNED_5S} with a global concurrency limit on its queue far above what it ever runs: every
     * claim is a limited one (the limit's lock, its count of running starts, the starts recorded).
     */
    private static final String LIMITED_5S = "pgqueue-limited-5s";
    /**
     * The pruned subject with its queue fair over {@link #FAIR_KEYS} partition keys (each producer call's
     * jobs get the next key): every claim is claim-fair.sql's, filled up by the ordinary claim.
     */
    private static final String FAIR_5S = "pgqueue-fair-5s";
    private static final int FAIR_KEYS = 100;
    /** The raw loop on pgqueue's table with issue 18's claim floor ({@link RawCeiling.Config#withFloor}). */
    private static final String RAW_FLOOR = "raw-pgqueue-table-k500-floor";
    /**
     * Issue 18's storage workloads' systems: today's pgqueue keeping its completed jobs (the worker's
     * default) and pruning them after 5 s (as the soak in docs/guarantees.md), the raw loop on its
     * table, the prototypes.
     */
    static final List<String> STORAGE_SYSTEMS = List.of("pgqueue-default", PRUNED_5S, LIMITED_5S, FAIR_5S, "raw-pgqueue-table-k500",
            RAW_FLOOR, ReceiptRingPrototype.NAME, RotatingPrototype.NAME);

    /** W1 without --sweep: the defaults and two tuned points. */
    private static final int[][] TUNED = {{16, 100}, {64, 500}};
    private static final int[] SWEEP_CONCURRENCY = {4, 16, 64};
    private static final int[] SWEEP_BATCH = {50, 100, 500};

    /** @param jfrBase where the memory run keeps its recordings: {@code <jfrBase>-memory-run<N>.jfr} */
    static Plan of(Options options, Path jfrBase) {
        Plan all = of(options.workloads(), options.sizes(), options.sweep(), jfrBase, options);
        if (options.systems().isEmpty()) {
            return all;
        }
        return new Plan(all.cases().stream().filter(c -> options.systems().contains(c.system())).toList(), all.ratios());
    }

    /**
     * A warm-up round, not recorded: the chosen workloads at the measured sizes (W4 warms up as W1,
     * whose code it runs; the memory run has a JVM of its own), repeated until the JIT settles (see
     * Benchmark.warmUp), so that no recorded measurement pays for class loading and JIT compilation
     * that the later ones are spared.
     */
    static Plan warmup(Options options) {
        List<String> workloads = new ArrayList<>();
        if (options.workloads().contains("w1") || options.workloads().contains("w4")) {
            workloads.add("w1");
        }
        options.workloads().stream().filter(w -> w.equals("w2") || w.equals("w3")).forEach(workloads::add);
        options.workloads().stream().filter(w -> w.equals("w5") || w.equals("w5r")).forEach(workloads::add);
        return of(workloads, options.sizes(), false, null, options);
    }

    private static Plan of(List<String> workloads, Sizes sizes, boolean sweep, Path jfrBase, Options options) {
        List<Case> cases = new ArrayList<>();
        List<Results.Ratio> ratios = new ArrayList<>();
        for (String workload : workloads) {
            switch (workload) {
                case "w1" -> drain(cases, ratios, sizes, sweep);
                case "w2" -> latency(cases, ratios, sizes);
                case "w3" -> enqueue(cases, ratios, sizes);
                case "w3parts" -> enqueueParts(cases, ratios, sizes);
                case "w4" -> retained(cases, ratios, sizes);
                case "w5" -> work(cases, ratios, sizes);
                case "w5r" -> steady(cases, ratios, sizes, options.rate());
                case "w5max" -> highestSteadyRate(cases, ratios, sizes, options);
                case "sustained", "pinned", "autovac", "drain" -> storage(cases, workload, sizes, options);
                case "memory" -> cases.add(new Case("memory", "pgqueue-default", (url, run) -> MemoryRun.measure(
                        url, sizes.memoryJobs(), sizes.memoryChunk(), Path.of(jfrBase + "-memory-run" + run + ".jfr"),
                        sizes.memoryTimeout())));
                default -> throw new IllegalArgumentException("unknown workload " + workload);
            }
        }
        return new Plan(List.copyOf(cases), List.copyOf(ratios));
    }

    private static void drain(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes, boolean sweep) {
        cases.add(pgDrain("w1", "pgqueue-default", Config.defaults(), sizes, 0));
        List<int[]> points = new ArrayList<>();
        if (sweep) {
            for (int c : SWEEP_CONCURRENCY) {
                for (int b : SWEEP_BATCH) {
                    points.add(new int[] {c, b});
                }
            }
        } else {
            points.addAll(List.of(TUNED));
        }
        for (int[] p : points) {
            cases.add(pgDrain("w1", "pgqueue-c" + p[0] + "-b" + p[1], Config.defaults().concurrencyAndBatch(p[0], p[1]), sizes, 0));
        }
        cases.add(rawDrain("w1", "raw-pgqueue-table", RawTable.PGQUEUE, RawCeiling.CLAIM_SIZE, sizes, 0));
        cases.add(rawDrain("w1", "raw-pgqueue-table-k" + Worker.DEFAULT_BATCH_SIZE, RawTable.PGQUEUE, Worker.DEFAULT_BATCH_SIZE, sizes, 0));
        cases.add(rawDrain("w1", "raw-minimal-table", RawTable.MINIMAL, RawCeiling.CLAIM_SIZE, sizes, 0));
        // The ceiling at pgqueue's own claim size first: the "same k"; then the peers' k = 50.
        ratios.add(new Results.Ratio("w1", "pgqueue-default", "raw-pgqueue-table-k" + Worker.DEFAULT_BATCH_SIZE, "drain_jobs_per_s"));
        ratios.add(new Results.Ratio("w1", "pgqueue-default", "raw-pgqueue-table", "drain_jobs_per_s"));
        ratios.add(new Results.Ratio("w1", "pgqueue-default", "raw-minimal-table", "drain_jobs_per_s"));
        for (String raw : List.of("raw-pgqueue-table", "raw-minimal-table")) {
            ratios.add(new Results.Ratio("w1", "pgqueue-default", raw, "cpu_ms_per_job"));
            ratios.add(new Results.Ratio("w1", "pgqueue-default", raw, "process_cpu_ms_per_job"));
        }
    }

    /** The raw references of W5 and W5R: the peer benchmark's minimal table, and pgqueue's table. */
    private static final RawTable[] WORK_TABLES = {RawTable.MINIMAL, RawTable.PGQUEUE};
    /**
     * W5R's raw loop on the minimal table claiming one job at a time: a chunk of 10 spreads over the
     * threads instead of running in sequence on the one that claimed it (lower latency, more claims).
     */
    private static final String RAW_ONE_AT_A_TIME = "raw-minimal-table-k1";

    /** pgqueue in W5 and W5R: the README's Usage, a pool of 10 and {@code queue("default", 10)}; producer apart. */
    private static Config workConfig() {
        return Config.defaults().producer(Producer.SEPARATE);
    }

    /**
     * W5 and W5R with a pool as large as a transactional worker of concurrency 10 may use at once (one per
     * handler, the claim, the outcome batches, heartbeat and maintenance, and LISTEN): what the default's
     * pool of 10 costs.
     */
    static final String PGQUEUE_POOL14 = "pgqueue-pool14";
    /** pgqueue-default whose transactional handler writes through its handle's JDBC connection, not JDBI's statement. */
    static final String PGQUEUE_JDBC_HANDLER = "pgqueue-jdbc-handler";

    private static Config workConfigPool14() {
        return workConfig().poolSize(PgQueueSubject.WORK_CONCURRENCY + 4);
    }

    /** W5's and W5R's pgqueue systems, in the order they run: the README's setup, then its two variants. */
    private static Map<String, Config> workSystems() {
        Map<String, Config> systems = new LinkedHashMap<>();
        systems.put("pgqueue-default", workConfig());
        systems.put(PGQUEUE_POOL14, workConfigPool14());
        systems.put(PGQUEUE_JDBC_HANDLER, workConfig().jdbcInHandler());
        return systems;
    }

    private static String rawName(RawTable table) {
        return table == RawTable.MINIMAL ? "raw-minimal-table" : "raw-pgqueue-table";
    }

    private static void work(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes) {
        workSystems().forEach((system, config) -> cases.add(new Case("w5", system, (url, run) -> {
            try (Subject subject = new PgQueueSubject(url, config)) {
                return Workloads.work(subject, url, sizes.workJobs(), sizes.drainTimeout());
            }
        })));
        for (RawTable table : WORK_TABLES) {
            cases.add(new Case("w5", rawName(table), (url, run) -> {
                try (Subject subject = new RawCeiling(url, RawCeiling.Config.work(table))) {
                    return Workloads.work(subject, url, sizes.workJobs(), sizes.drainTimeout());
                }
            }));
        }
        cpuRatios(ratios, "w5", "drain_jobs_per_s");
    }

    private static void steady(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes, int rate) {
        String workload = "w5r";
        workSystems().forEach((system, config) -> cases.add(new Case(workload, system, (url, run) -> {
            try (Subject subject = new PgQueueSubject(url, config)) {
                return Workloads.steady(subject, url, rate, sizes.steadyWarmup(), sizes.steadyDuration(), sizes.drainTimeout());
            }
        })));
        for (RawTable table : WORK_TABLES) {
            cases.add(new Case(workload, rawName(table), (url, run) -> {
                try (Subject subject = new RawCeiling(url, RawCeiling.Config.work(table))) {
                    return Workloads.steady(subject, url, rate, sizes.steadyWarmup(), sizes.steadyDuration(), sizes.drainTimeout());
                }
            }));
        }
        cases.add(new Case(workload, RAW_ONE_AT_A_TIME, (url, run) -> {
            try (Subject subject = new RawCeiling(url, RawCeiling.Config.workOneAtATime(RawTable.MINIMAL))) {
                return Workloads.steady(subject, url, rate, sizes.steadyWarmup(), sizes.steadyDuration(), sizes.drainTimeout());
            }
        }));
        cpuRatios(ratios, workload, "completed_jobs_per_s");
        for (RawTable table : WORK_TABLES) {
            ratios.add(new Results.Ratio(workload, "pgqueue-default", rawName(table), "latency_p99_ms"));
        }
    }

    private static void highestSteadyRate(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes, Options options) {
        cases.add(new Case("w5max", "pgqueue-default", (url, run) -> {
            try (Subject subject = new PgQueueSubject(url, workConfig())) {
                return Workloads.highestSteadyRate(subject, url, options.rateFrom(), options.rateStep(), options.rateMax(),
                        sizes.stepWarmup(), sizes.stepDuration(), sizes.drainTimeout());
            }
        }));
        for (RawTable table : WORK_TABLES) {
            cases.add(new Case("w5max", rawName(table), (url, run) -> {
                try (Subject subject = new RawCeiling(url, RawCeiling.Config.work(table))) {
                    return Workloads.highestSteadyRate(subject, url, options.rateFrom(), options.rateStep(), options.rateMax(),
                            sizes.stepWarmup(), sizes.stepDuration(), sizes.drainTimeout());
                }
            }));
        }
        cases.add(new Case("w5max", RAW_ONE_AT_A_TIME, (url, run) -> {
            try (Subject subject = new RawCeiling(url, RawCeiling.Config.workOneAtATime(RawTable.MINIMAL))) {
                return Workloads.highestSteadyRate(subject, url, options.rateFrom(), options.rateStep(), options.rateMax(),
                        sizes.stepWarmup(), sizes.stepDuration(), sizes.drainTimeout());
            }
        }));
        for (RawTable table : WORK_TABLES) {
            ratios.add(new Results.Ratio("w5max", "pgqueue-default", rawName(table), "max_steady_jobs_per_s"));
        }
    }

    /**
     * Issue 18's storage workloads ({@link StorageWorkloads}) on each of {@link #STORAGE_SYSTEMS}:
     * pgqueue's defaults with a producer of its own, the raw loop on pgqueue's table at pgqueue's
     * claim size, and the two prototypes.
     */
    private static void storage(List<Case> cases, String workload, Sizes sizes, Options options) {
        for (String system : STORAGE_SYSTEMS) {
            cases.add(new Case(workload, system, (url, run) -> {
                StorageWorkloads.StorageSubject subject = storageSubject(system, url);
                if (workload.equals("drain")) {
                    return StorageWorkloads.drain(subject, url, sizes.drainJobs(), sizes.drainTimeout());
                }
                try (subject) {
                    return switch (workload) {
                        case "sustained" -> StorageWorkloads.sustained(subject, url, options.rateFrom(), options.rateStep(),
                                options.rateMax(), java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(20));
                        case "pinned" -> StorageWorkloads.pinned(subject, url, options.storageRate(), java.time.Duration.ofSeconds(30),
                                java.time.Duration.ofSeconds(options.baselineSeconds()), java.time.Duration.ofSeconds(options.pinSeconds()),
                                java.time.Duration.ofSeconds(60));
                        case "autovac" -> StorageWorkloads.autovac(subject, url, options.storageRate(), java.time.Duration.ofSeconds(60),
                                java.time.Duration.ofMinutes(options.autovacMinutes()));
                        default -> throw new IllegalArgumentException(workload);
                    };
                }
            }));
        }
    }

    static StorageWorkloads.StorageSubject storageSubject(String system, String url) throws Exception {
        return switch (system) {
            case "pgqueue-default" -> StorageWorkloads.of(system,
                    new PgQueueSubject(url, Config.defaults().producer(Producer.SEPARATE)));
            case PRUNED_5S -> StorageWorkloads.of(system,
                    new PgQueueSubject(url, Config.defaults().producer(Producer.SEPARATE).pruned(java.time.Duration.ofSeconds(5))));
            case "raw-pgqueue-table-k500" -> StorageWorkloads.of(system,
                    new RawCeiling(url, new RawCeiling.Config(RawTable.PGQUEUE, Worker.DEFAULT_BATCH_SIZE, Bulk.UNNEST)));
            case LIMITED_5S -> StorageWorkloads.of(system, new PgQueueSubject(url, Config.defaults().producer(Producer.SEPARATE)
                    .pruned(java.time.Duration.ofSeconds(5)).globalLimit(100_000)));
            case FAIR_5S -> StorageWorkloads.of(system, new PgQueueSubject(url, Config.defaults().producer(Producer.SEPARATE)
                    .pruned(java.time.Duration.ofSeconds(5)).fair(FAIR_KEYS)));
            case RAW_FLOOR -> StorageWorkloads.of(system,
                    new RawCeiling(url, new RawCeiling.Config(RawTable.PGQUEUE, Worker.DEFAULT_BATCH_SIZE, Bulk.UNNEST).withFloor()));
            case ReceiptRingPrototype.NAME -> new PrototypeSubject(url, new ReceiptRingPrototype());
            case RotatingPrototype.NAME -> new PrototypeSubject(url, new RotatingPrototype());
            default -> throw new IllegalArgumentException("no storage subject " + system);
        };
    }

    /**
     * pgqueue ÷ each raw reference: {@code metric}, then CPU per job over the timed phase and over the whole
     * JVM; for the README's handler and for {@link #PGQUEUE_JDBC_HANDLER}'s.
     */
    private static void cpuRatios(List<Results.Ratio> ratios, String workload, String metric) {
        for (String system : List.of("pgqueue-default", PGQUEUE_JDBC_HANDLER)) {
            for (String m : List.of(metric, "cpu_ms_per_job", "process_cpu_ms_per_job")) {
                for (RawTable table : WORK_TABLES) {
                    ratios.add(new Results.Ratio(workload, system, rawName(table), m));
                }
            }
        }
    }

    private static void latency(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes) {
        for (String metric : List.of("latency_p50_ms", "latency_p99_ms", "latency_max_ms")) {
            ratios.add(new Results.Ratio("w2", "pgqueue-default", "raw-minimal-table", metric));
        }
        cases.add(pgLatency("pgqueue-default", Config.defaults().producer(Producer.SEPARATE), sizes));
        cases.add(pgLatency("pgqueue-inprocess", Config.defaults().producer(Producer.SHARED), sizes));
        cases.add(rawLatency("raw-pgqueue-table", RawTable.PGQUEUE, sizes));
        cases.add(rawLatency("raw-minimal-table", RawTable.MINIMAL, sizes));
    }

    private static void enqueue(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes) {
        for (String metric : List.of("single_jobs_per_s", "single_cpu_ms_per_job", "bulk_jobs_per_s")) {
            ratios.add(new Results.Ratio("w3", "pgqueue-default", "raw-minimal-table", metric));
            ratios.add(new Results.Ratio("w3", "pgqueue-default", "raw-pgqueue-table", metric));
        }
        cases.add(pgEnqueue("w3", sizes));
        cases.add(rawEnqueue("w3", "raw-pgqueue-table", RawTable.PGQUEUE, Bulk.UNNEST, true, sizes, null));
        cases.add(rawEnqueue("w3", "raw-pgqueue-table-copy", RawTable.PGQUEUE, Bulk.COPY, false, sizes, null));
        cases.add(rawEnqueue("w3", "raw-minimal-table", RawTable.MINIMAL, Bulk.UNNEST, true, sizes, null));
    }

    /**
     * W3's single enqueues on the raw ceiling, with pgqueue's table taken apart step by step, so that
     * each part's cost shows beside the minimal table: all of it; without the NOTIFY trigger; without
     * any trigger; also without check, unique and foreign-key constraints; also without any index but
     * the primary key. Each step is cumulative.
     */
    private static void enqueueParts(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes) {
        cases.add(pgEnqueue("w3parts", sizes));
        cases.add(rawEnqueue("w3parts", "raw-minimal-table", RawTable.MINIMAL, Bulk.UNNEST, true, sizes, null));
        cases.add(rawEnqueue("w3parts", "raw-pgqueue-table", RawTable.PGQUEUE, Bulk.UNNEST, true, sizes, null));
        for (TablePart part : TablePart.values()) {
            cases.add(rawEnqueue("w3parts", "raw-pgqueue-table-" + part.label, RawTable.PGQUEUE, Bulk.UNNEST, true, sizes, part));
            ratios.add(new Results.Ratio("w3parts", "raw-pgqueue-table-" + part.label, "raw-minimal-table", "single_jobs_per_s"));
        }
        ratios.add(new Results.Ratio("w3parts", "raw-pgqueue-table", "raw-minimal-table", "single_jobs_per_s"));
        ratios.add(new Results.Ratio("w3parts", "pgqueue-default", "raw-pgqueue-table", "single_jobs_per_s"));
        ratios.add(new Results.Ratio("w3parts", "pgqueue-default", "raw-minimal-table", "single_jobs_per_s"));
        ratios.add(new Results.Ratio("w3parts", "pgqueue-default", "raw-minimal-table", "single_cpu_ms_per_job"));
    }

    /** What {@link #enqueueParts} takes away from pgqueue's table, cumulatively (each step includes the earlier ones). */
    enum TablePart {
        NOTIFY("no-notify", "ALTER TABLE job_queue DISABLE TRIGGER job_queue_notify_insert"),
        TRIGGERS("no-triggers", "ALTER TABLE job_queue DISABLE TRIGGER USER"),
        CONSTRAINTS("no-constraints", """
                DO $$
                DECLARE r record;
                BEGIN
                    FOR r IN SELECT conname FROM pg_constraint
                              WHERE conrelid = 'job_queue'::regclass AND contype IN ('c', 'u', 'x', 'f') LOOP
                        EXECUTE format('ALTER TABLE job_queue DROP CONSTRAINT %I', r.conname);
                    END LOOP;
                END $$"""),
        INDEXES("bare", """
                DO $$
                DECLARE r record;
                BEGIN
                    FOR r IN SELECT indexrelid::regclass AS name FROM pg_index
                              WHERE indrelid = 'job_queue'::regclass AND NOT indisprimary LOOP
                        EXECUTE format('DROP INDEX %s', r.name);
                    END LOOP;
                END $$""");

        final String label;
        final String sql;

        TablePart(String label, String sql) {
            this.label = label;
            this.sql = sql;
        }

        /** Applies this step and every earlier one to the table at {@code url}. */
        void apply(String url) throws java.sql.SQLException {
            try (java.sql.Connection c = Server.connect(url); java.sql.Statement st = c.createStatement()) {
                for (TablePart part : values()) {
                    st.execute(part.sql);
                    if (part == this) {
                        return;
                    }
                }
            }
        }
    }

    private static void retained(List<Case> cases, List<Results.Ratio> ratios, Sizes sizes) {
        for (int n : sizes.retained()) {
            cases.add(pgDrain("w4", "pgqueue-retained-" + Sizes.count(n), Config.defaults(), sizes, n));
        }
        int most = sizes.mostRetained();
        String suffix = "-retained-" + Sizes.count(most);
        cases.add(pgDrain("w4", "pgqueue" + suffix + "-pruned", Config.defaults().pruned(PgQueueSubject.RETENTION), sizes, most));
        cases.add(rawDrain("w4", "raw-pgqueue-table" + suffix, RawTable.PGQUEUE, RawCeiling.CLAIM_SIZE, sizes, most));
        ratios.add(new Results.Ratio("w4", "pgqueue" + suffix, "raw-pgqueue-table" + suffix, "drain_jobs_per_s"));
        ratios.add(new Results.Ratio("w4", "pgqueue" + suffix, "pgqueue-retained-0", "drain_jobs_per_s"));
    }

    /** W1, or W4 with {@code retained} completed jobs in the table first. */
    private static Case pgDrain(String workload, String system, Config config, Sizes sizes, int retained) {
        return new Case(workload, system, (url, run) -> {
            try (Subject subject = new PgQueueSubject(url, config)) {
                Workloads.prefillCompleted(url, retained);
                List<Metric> metrics = Workloads.drain(subject, url, sizes.drainJobs(), sizes.drainTimeout());
                if (retained > 0) {
                    Log.info("  job_queue holds %,d rows after the drain (%,d prefilled + %,d drained, less what was pruned)",
                            Workloads.rows(url), retained, sizes.drainJobs());
                }
                return metrics;
            }
        });
    }

    private static Case rawDrain(String workload, String system, RawTable table, int claimSize, Sizes sizes, int retained) {
        return new Case(workload, system, (url, run) -> {
            try (Subject subject = new RawCeiling(url, new RawCeiling.Config(table, claimSize, Bulk.UNNEST))) {
                Workloads.prefillCompleted(url, retained);
                return Workloads.drain(subject, url, sizes.drainJobs(), sizes.drainTimeout());
            }
        });
    }

    private static Case pgLatency(String system, Config config, Sizes sizes) {
        return new Case("w2", system, (url, run) -> {
            try (Subject subject = new PgQueueSubject(url, config)) {
                return Workloads.latency(subject, url, sizes.latencyJobs(), sizes.latencyRate(), sizes.latencyIdle());
            }
        });
    }

    private static Case rawLatency(String system, RawTable table, Sizes sizes) {
        return new Case("w2", system, (url, run) -> {
            try (Subject subject = new RawCeiling(url, new RawCeiling.Config(table, RawCeiling.CLAIM_SIZE, Bulk.UNNEST))) {
                return Workloads.latency(subject, url, sizes.latencyJobs(), sizes.latencyRate(), sizes.latencyIdle());
            }
        });
    }

    /** W3 with pgqueue's defaults, through a store whose pool holds exactly one connection. */
    private static Case pgEnqueue(String workload, Sizes sizes) {
        Config oneConnection = Config.defaults().poolSize(1);
        return new Case(workload, "pgqueue-default", (url, run) -> {
            try (Subject subject = new PgQueueSubject(url, oneConnection)) {
                return Workloads.enqueue(subject, sizes.enqueueWarmup(), sizes.enqueueJobs(), true);
            }
        });
    }

    /** W3 on the ceiling; {@code without} (unless null) takes parts of pgqueue's table away first ({@link #enqueueParts}). */
    private static Case rawEnqueue(String workload, String system, RawTable table, Bulk bulk, boolean singles, Sizes sizes,
                                   TablePart without) {
        return new Case(workload, system, (url, run) -> {
            try (Subject subject = new RawCeiling(url, new RawCeiling.Config(table, RawCeiling.CLAIM_SIZE, bulk))) {
                if (without != null) {
                    without.apply(url);
                }
                return Workloads.enqueue(subject, sizes.enqueueWarmup(), sizes.enqueueJobs(), singles);
            }
        });
    }
}
