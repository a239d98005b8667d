package dev.pgqueue.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A measurement in a JVM of its own, as a service that has just been deployed: class loading, JIT
 * compilation and the pools' start-up happen in the measurement, not in an earlier round. The parent
 * creates the database; the child ({@link #CHILD_COMMAND}, this jar on the same class path) rebuilds
 * the plan from the same command line, runs the one configuration, and prints its metrics on stdout
 * as {@code metric NAME=VALUE} lines, adding the CPU time its whole process used
 * ({@code process_cpu_s}: start-up, connecting, migrating, enqueueing and the measurement; and per
 * job). The database's URL goes through the environment ({@value #URL_ENV}), never the command line.
 */
final class FreshJvm {

    static final String CHILD_COMMAND = "measure-child";
    static final String URL_ENV = "PGQUEUE_BENCH_CHILD_URL";
    private static final String PREFIX = "metric ";
    private static final Duration TIMEOUT = Duration.ofHours(3);

    private FreshJvm() {}

    /** Runs {@code c} in a child JVM on the database at {@code url}; records it with JFR into {@code jfr} unless null. */
    static List<Metric> measure(Plan.Case c, int run, String url, List<String> args, Path jfr) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (jfr != null) {
            Files.createDirectories(jfr.toAbsolutePath().getParent());
            command.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile,dumponexit=true");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Benchmark.class.getName(),
                CHILD_COMMAND, c.workload(), c.system(), Integer.toString(run)));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put(URL_ENV, url);
        Process child = builder.start();
        List<Metric> metrics = new ArrayList<>();
        Thread reader = new Thread(() -> read(child, metrics), "fresh-jvm-stdout");
        reader.start();
        if (!child.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            child.destroyForcibly();
            throw new IllegalStateException("the child JVM did not finish within " + TIMEOUT + "; killed it");
        }
        reader.join(5_000);
        if (child.exitValue() != 0) {
            throw new IllegalStateException("the child JVM failed (exit " + child.exitValue() + "); see its stderr above");
        }
        if (jfr != null) {
            Log.info("  JFR recording: %s", jfr);
        }
        synchronized (metrics) {
            return List.copyOf(metrics);
        }
    }

    private static void read(Process child, List<Metric> metrics) {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(PREFIX)) {
                    String[] kv = line.substring(PREFIX.length()).split("=", 2);
                    synchronized (metrics) {
                        metrics.add(new Metric(kv[0], Double.parseDouble(kv[1])));
                    }
                } else {
                    System.err.println(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            Log.info("  could not read the child's metrics: %s", e);
        }
    }

    /** The child: {@code measure-child WORKLOAD SYSTEM RUN [the parent's options]}; returns the exit status. */
    static int child(String[] args) {
        String url = System.getenv(URL_ENV);
        if (args.length < 3 || url == null) {
            System.err.println("usage: $" + URL_ENV + "=... " + CHILD_COMMAND + " WORKLOAD SYSTEM RUN [options] (started by the benchmark)");
            return 2;
        }
        try {
            Options options = Options.parse(Arrays.copyOfRange(args, 3, args.length));
            Plan.Case c = Plan.of(options, Path.of("unused")).cases().stream()
                    .filter(k -> k.workload().equals(args[0]) && k.system().equals(args[1]))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("no configuration " + args[0] + " " + args[1]));
            List<Metric> metrics = new ArrayList<>(c.measure().run(url, Integer.parseInt(args[2])));
            long cpu = Cpu.processNanos();
            if (cpu >= 0) {
                metrics.add(new Metric("process_cpu_s", cpu / 1e9));
                metrics.stream().filter(m -> m.name().equals("jobs")).findFirst().ifPresent(
                        jobs -> metrics.add(new Metric("process_cpu_ms_per_job", cpu / 1e6 / jobs.value())));
            }
            metrics.add(new Metric("jvm_uptime_s", ManagementFactory.getRuntimeMXBean().getUptime() / 1e3));
            Log.info("  child CPU by thread: %s", ThreadCpu.summary());
            for (Metric m : metrics) {
                System.out.println(PREFIX + m.name() + "=" + m.value());
            }
            System.out.flush();
            return 0;
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
    }
}
