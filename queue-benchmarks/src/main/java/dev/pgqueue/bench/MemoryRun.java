package dev.pgqueue.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * The memory workload: does a worker's heap stay flat while it drains a big backlog? A child JVM
 * (this jar, {@link #CHILD_COMMAND}) with {@value #MAX_HEAP} and a JFR recording first enqueues all
 * jobs with {@code enqueueAll} in chunks, then starts a default {@code Worker} and drains them. The
 * parent reads the recording's {@code jdk.GCHeapSummary} events taken after each GC, keeps those of
 * the drain (worker start to last job completed), and reports the heap after GC in its first tenth,
 * middle tenth and last tenth (the median of each), and the maximum.
 *
 * <p>A no-op drain makes little garbage, so a 256 MiB heap may go minutes without a GC and leave a
 * tenth without a sample. The child therefore also asks for a full GC ({@link System#gc()}) each
 * time another {@value #GC_STEPS}th of the jobs has run: a few full collections of a small heap, and
 * each one's "after" figure is the live set, which is what a leak would grow.
 */
final class MemoryRun {

    static final String CHILD_COMMAND = "memory-child";
    static final String MAX_HEAP = "-Xmx256m";
    private static final double MIB = 1024.0 * 1024.0;
    /** The child asks for a full GC at every 1/GC_STEPS of the drain. */
    static final int GC_STEPS = 20;
    /** The child's own deadline; the parent's ({@link Sizes#memoryTimeout()}) is shorter and kills it first. */
    private static final Duration CHILD_TIMEOUT = Duration.ofHours(3);

    private MemoryRun() {}

    /** Runs the child JVM on the (migrated, empty) database at {@code url}; keeps its recording in {@code jfr}. */
    static List<Metric> measure(String url, int jobs, int chunk, Path jfr, Duration timeout) throws Exception {
        Files.createDirectories(jfr.toAbsolutePath().getParent());
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                MAX_HEAP,
                "-XX:StartFlightRecording=filename=" + jfr + ",settings=default,dumponexit=true",
                "-cp", System.getProperty("java.class.path"),
                Benchmark.class.getName(), CHILD_COMMAND, url, Integer.toString(jobs), Integer.toString(chunk));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, String> reported = new HashMap<>();
        Thread reader = new Thread(() -> readReport(child, reported), "memory-child-stdout");
        reader.start();
        if (!child.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            child.destroyForcibly();
            throw new IllegalStateException("the memory run's child JVM did not finish within " + timeout + "; killed it");
        }
        reader.join(5_000);
        if (child.exitValue() != 0 || !reported.containsKey("drain_end_ms")) {
            throw new IllegalStateException("the memory run's child JVM failed (exit " + child.exitValue() + "); see its stderr above");
        }
        Instant from = Instant.ofEpochMilli(Long.parseLong(reported.get("drain_start_ms")));
        Instant to = Instant.ofEpochMilli(Long.parseLong(reported.get("drain_end_ms")));
        List<Metric> metrics = new ArrayList<>(heapAfterGc(jfr, from, to));
        metrics.add(new Metric("enqueue_jobs_per_s", Double.parseDouble(reported.get("enqueue_jobs_per_s"))));
        metrics.add(new Metric("drain_jobs_per_s", Double.parseDouble(reported.get("drain_jobs_per_s"))));
        Log.info("  recording kept in %s", jfr);
        return metrics;
    }

    private static void readReport(Process child, Map<String, String> reported) {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                String[] kv = line.split("=", 2);
                if (kv.length == 2) {
                    synchronized (reported) {
                        reported.put(kv[0].strip(), kv[1].strip());
                    }
                }
            }
        } catch (IOException e) {
            Log.info("  could not read the child's report: %s", e);
        }
    }

    /** Heap used after GC during [from, to]: median in the first, middle and last tenth, and the maximum. */
    static List<Metric> heapAfterGc(Path jfr, Instant from, Instant to) throws IOException {
        List<double[]> samples = new ArrayList<>(); // {position in the drain 0..1, MiB}
        double span = Duration.between(from, to).toNanos();
        try (RecordingFile file = new RecordingFile(jfr)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                if (event.getEventType().getName().equals("jdk.GCHeapSummary") && "After GC".equals(event.getString("when"))) {
                    Instant at = event.getStartTime();
                    if (!at.isBefore(from) && !at.isAfter(to)) {
                        samples.add(new double[] {Duration.between(from, at).toNanos() / span, event.getLong("heapUsed") / MIB});
                    }
                }
            }
        }
        if (samples.isEmpty()) {
            throw new IllegalStateException("no GC during the drain in " + jfr + ": nothing to report");
        }
        double max = samples.stream().mapToDouble(s -> s[1]).max().orElseThrow();
        return List.of(
                new Metric("heap_after_gc_first_mib", median(samples, 0.0, 0.10)),
                new Metric("heap_after_gc_mid_mib", median(samples, 0.45, 0.55)),
                new Metric("heap_after_gc_last_mib", median(samples, 0.90, 1.0)),
                new Metric("heap_after_gc_max_mib", max),
                new Metric("gc_count", samples.size()));
    }

    /** Median heap of the samples in [from, to] of the drain; NaN when no GC fell there. */
    private static double median(List<double[]> samples, double from, double to) {
        double[] values = samples.stream().filter(s -> s[0] >= from && s[0] <= to).mapToDouble(s -> s[1]).sorted().toArray();
        if (values.length == 0) {
            Log.info("  no GC between %.0f%% and %.0f%% of the drain", from * 100, to * 100);
            return Double.NaN;
        }
        return values.length % 2 == 1 ? values[values.length / 2]
                : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
    }

    /**
     * The child: {@code memory-child URL JOBS CHUNK}. Enqueues, drains, and reports on stdout as
     * {@code key=value} lines; logs on stderr. Returns the exit status.
     */
    static int child(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: " + CHILD_COMMAND + " JDBC_URL JOBS CHUNK (started by the memory workload)");
            return 2;
        }
        String url = args[0];
        int jobs = Integer.parseInt(args[1]);
        int chunk = Integer.parseInt(args[2]);
        try (PgQueueSubject subject = new PgQueueSubject(url, PgQueueSubject.Config.defaults());
             Monitor monitor = new Monitor(url)) {
            long t0 = System.nanoTime();
            for (int done = 0; done < jobs; done += chunk) {
                subject.enqueueBulk(Math.min(chunk, jobs - done));
            }
            double enqueue = Workloads.seconds(System.nanoTime() - t0);
            Log.info("  child: enqueued %,d jobs in %.1f s; draining", jobs, enqueue);
            report("enqueue_jobs_per_s", String.format(Locale.ROOT, "%.3f", jobs / enqueue));
            Recorder recorder = new Recorder(0);
            report("drain_start_ms", Long.toString(System.currentTimeMillis()));
            long start = System.nanoTime();
            subject.startWorker(recorder);
            Thread gc = collectAtSteps(recorder, jobs);
            monitor.awaitDrained(subject, recorder, jobs, start, CHILD_TIMEOUT);
            gc.interrupt();
            double drain = Workloads.seconds(System.nanoTime() - start);
            report("drain_end_ms", Long.toString(System.currentTimeMillis()));
            report("drain_jobs_per_s", String.format(Locale.ROOT, "%.3f", jobs / drain));
            Log.info("  child: drained in %.1f s", drain);
            return 0;
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
    }

    /** A daemon thread that calls {@link System#gc()} each time another 1/{@value #GC_STEPS} of the jobs has run. */
    private static Thread collectAtSteps(Recorder recorder, int jobs) {
        Thread thread = new Thread(() -> {
            int step = 1;
            try {
                while (step < GC_STEPS) {
                    if (recorder.started() >= (long) jobs * step / GC_STEPS) {
                        System.gc();
                        step++;
                    } else {
                        Thread.sleep(20);
                    }
                }
            } catch (InterruptedException e) {
                // the drain is over
            }
        }, "memory-child-gc");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void report(String key, String value) {
        System.out.println(key + "=" + value);
        System.out.flush();
    }
}
