package dev.pgqueue.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command line, parsed.
 *
 * @param jdbcUrl   the server to measure on; null for an embedded PostgreSQL
 * @param workloads in the order they run within each round
 * @param runs      rounds; every configuration is measured once per round
 * @param csv       where the CSV goes; null for {@code target/bench-results/<UTC timestamp>.csv}
 * @param quick     small sizes, for smoke tests
 * @param sweep     W1 also over concurrency × batch size
 * @param jfrDir    record every measurement with JFR into this folder; null for none
 * @param warmup    run warm-up rounds first (not recorded) until the JIT settles; only with {@code warm}
 * @param warm      every measurement in this JVM, after the warm-up rounds; otherwise (the default) each
 *                  in a fresh child JVM
 * @param systems   only the systems whose names are in this list; empty for all
 * @param rate      W5R's offered rate, jobs per second
 * @param rateFrom  the highest-steady-rate search's first rate
 * @param rateStep  its increment
 * @param rateMax   its last rate (also {@code sustained}'s steps)
 * @param pinSeconds     {@code pinned}: how long the snapshot is held
 * @param baselineSeconds {@code pinned}: the baseline interval before the snapshot is taken
 * @param autovacMinutes {@code autovac}: the measured run's length
 * @param storageRate    {@code pinned} and {@code autovac}: the offered rate, jobs/s
 */
record Options(String jdbcUrl, List<String> workloads, int runs, Path csv, boolean quick, boolean sweep, Path jfrDir,
               boolean warmup, boolean warm, List<String> systems, int rate, int rateFrom, int rateStep, int rateMax,
               int pinSeconds, int baselineSeconds, int autovacMinutes, int storageRate) {

    static final String JDBC_URL_ENV = "PGQUEUE_BENCH_JDBC_URL";
    static final List<String> ALL_WORKLOADS = List.of("w1", "w2", "w3", "w3parts", "w4", "w5", "w5r", "w5max", "memory",
            "sustained", "pinned", "autovac", "drain");
    static final List<String> DEFAULT_WORKLOADS = List.of("w1", "w2", "w3");

    static final String USAGE = """
            usage: java -jar queue-benchmarks/target/pgqueue-benchmarks.jar [options]
              --url JDBC_URL      the PostgreSQL to measure on (also $%s); its user must be allowed
                                  to CREATE DATABASE. Default: an embedded PostgreSQL
                                  e.g. 'jdbc:postgresql://127.0.0.1:5432/test?user=postgres'
              --workloads LIST    comma-separated among w1,w2,w3,w3parts,w4,w5,w5r,w5max,memory,
                                  sustained,pinned,autovac,drain (issue 18's storage workloads), or all (default w1,w2,w3)
              --runs N            rounds; each configuration runs once per round (default 3)
              --csv FILE          where the CSV lines go (default target/bench-results/<UTC time>.csv)
              --quick             small sizes for a smoke test (figures not comparable); no warm-up
              --warm              every measurement in this JVM after warm-up rounds, until the JIT
                                  compilers take under 5%% of a round's CPU (at most 6; a warmed-up
                                  service); default: each in a fresh child JVM, start-up in the clock
              --no-warmup         with --warm: skip the warm-up rounds
              --systems LIST      only these systems (comma-separated names as in the output)
              --rate N            W5R's offered rate, jobs/s (default 500)
              --rates FROM,STEP,MAX  w5max: offered rates tried, FROM up by STEP to MAX (default 200,100,4000)
              --storage-rate N    pinned, autovac: offered rate, jobs/s (default 2000)
              --pin-seconds N     pinned: how long the REPEATABLE READ snapshot is held (default 120)
              --baseline-seconds N  pinned: the baseline interval before the snapshot (default: --pin-seconds)
              --autovac-minutes N autovac: the measured run's length (default 30)
              --sweep             W1 also for concurrency 4,16,64 x batch size 50,100,500
              --jfr DIR           record each measurement with JFR into DIR/<system>-<workload>-run<N>.jfr
            """.formatted(JDBC_URL_ENV);

    /** @throws IllegalArgumentException with a message for the user */
    static Options parse(String[] args) {
        String url = System.getenv(JDBC_URL_ENV);
        List<String> workloads = DEFAULT_WORKLOADS;
        int runs = 3;
        Path csv = null;
        boolean quick = false;
        boolean sweep = false;
        Path jfrDir = null;
        Boolean warmup = null;
        boolean warm = false;
        List<String> systems = List.of();
        int rate = 500;
        int[] rates = {200, 100, 4000};
        int pinSeconds = 120;
        Integer baselineSeconds = null;
        int autovacMinutes = 30;
        int storageRate = 2000;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--url" -> url = value(args, ++i, arg);
                case "--workloads" -> workloads = workloads(value(args, ++i, arg));
                case "--runs" -> runs = positive(value(args, ++i, arg), arg);
                case "--csv" -> csv = Path.of(value(args, ++i, arg));
                case "--quick" -> quick = true;
                case "--sweep" -> sweep = true;
                case "--jfr" -> jfrDir = Path.of(value(args, ++i, arg));
                case "--no-warmup" -> warmup = false;
                case "--warm" -> warm = true;
                case "--systems" -> systems = List.of(value(args, ++i, arg).split(","));
                case "--rate" -> rate = positive(value(args, ++i, arg), arg);
                case "--rates" -> rates = rates(value(args, ++i, arg));
                case "--pin-seconds" -> pinSeconds = positive(value(args, ++i, arg), arg);
                case "--baseline-seconds" -> baselineSeconds = positive(value(args, ++i, arg), arg);
                case "--autovac-minutes" -> autovacMinutes = positive(value(args, ++i, arg), arg);
                case "--storage-rate" -> storageRate = positive(value(args, ++i, arg), arg);
                default -> throw new IllegalArgumentException("unknown option: " + arg);
            }
        }
        return new Options(url == null || url.isBlank() ? null : url.strip(), workloads, runs, csv, quick, sweep, jfrDir,
                warm && (warmup != null ? warmup : !quick), warm, systems, rate, rates[0], rates[1], rates[2],
                pinSeconds, baselineSeconds != null ? baselineSeconds : pinSeconds, autovacMinutes, storageRate);
    }

    Sizes sizes() {
        return quick ? Sizes.quick() : Sizes.standard();
    }

    private static List<String> workloads(String list) {
        if (list.equals("all")) {
            return ALL_WORKLOADS;
        }
        List<String> chosen = new ArrayList<>();
        for (String w : list.toLowerCase(Locale.ROOT).split(",")) {
            if (!ALL_WORKLOADS.contains(w.strip())) {
                throw new IllegalArgumentException("expected --workloads to be among " + ALL_WORKLOADS + " or all, got: " + w);
            }
            if (!chosen.contains(w.strip())) {
                chosen.add(w.strip());
            }
        }
        return List.copyOf(chosen);
    }

    private static int[] rates(String list) {
        String[] parts = list.split(",");
        if (parts.length != 3) {
            throw new IllegalArgumentException("expected --rates to be FROM,STEP,MAX, got: " + list);
        }
        int[] rates = {positive(parts[0], "--rates FROM"), positive(parts[1], "--rates STEP"), positive(parts[2], "--rates MAX")};
        if (rates[2] < rates[0]) {
            throw new IllegalArgumentException("expected --rates MAX >= FROM, got: " + list);
        }
        return rates;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int positive(String value, String option) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("expected " + option + " to be a number >= 1, got: " + value);
    }
}
