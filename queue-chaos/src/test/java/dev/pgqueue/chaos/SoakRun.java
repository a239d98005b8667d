package dev.pgqueue.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The soak runs, outside {@code mvn verify} (the class name does not match the test pattern):
 * {@code mvn -B -pl queue-chaos -am verify -Psoak}. Each prints its sample table and writes it to
 * {@code target/soak-*.md}. {@code -Dsoak.jobs}, {@code -Dsoak.settings} (server settings,
 * comma-separated) and {@code -Dsoak.tableSql} (statements, semicolon-separated) vary the
 * million-job run for experiments.
 */
class SoakRun {

    /**
     * The server setting the README recommends for busy queues: autovacuum visits each database
     * every 10 s instead of every minute. {@code -Dsoak.settings=} runs with PostgreSQL's defaults.
     */
    private static final String RECOMMENDED = "autovacuum_naptime=10s";

    /** One minute of samples: a whole autovacuum cycle at the default naptime. */
    private static final int WINDOW = 6;

    /** 1,000,000 jobs with the pruner on: sizes must plateau and throughput must not decay > 10%. */
    @Test
    void millionJobs_withThePrunerOn_sizesPlateau_andThroughputHolds() throws Exception {
        long jobs = Long.getLong("soak.jobs", 1_000_000);
        Soak.Result result = Soak.run(new Soak.Plan(jobs, Duration.ofSeconds(10), null, null,
                split(System.getProperty("soak.settings", RECOMMENDED), ","), Duration.ofSeconds(5), null,
                split(System.getProperty("soak.tableSql", ""), ";")));
        List<Soak.Sample> samples = result.samples();
        String table = report("soak-million", samples, result);

        List<Soak.Sample> steady = samples.subList(1, samples.size()); // the first interval warms up
        double start = average(steady.subList(0, WINDOW));
        double end = average(steady.subList(steady.size() - WINDOW, steady.size()));
        // The table starts empty, so sizes grow at first; a plateau means the last third of the run
        // needs no more room than the middle third did.
        int third = steady.size() / 3;
        long middleMax = maxSize(steady.subList(third, 2 * third));
        long lastMax = maxSize(steady.subList(2 * third, steady.size()));
        String verdict = String.format("throughput over the first minute %.0f jobs/s, over the last minute %.0f jobs/s"
                        + " (drift %+.1f%%); table+indexes at most %.1f MiB in the middle third of the run, %.1f MiB in the last",
                start, end, (end - start) / start * 100, middleMax / 1048576.0, lastMax / 1048576.0);
        System.out.println(verdict);
        Files.writeString(Path.of("target", "soak-million.md"), table + "\n" + verdict + "\n");
        assertThat(end).as(verdict).isGreaterThanOrEqualTo(start * 0.9);
        assertThat(lastMax).as(verdict).isLessThanOrEqualTo((long) (middleMax * 1.25));
    }

    /**
     * A transaction elsewhere holds its snapshot for two minutes while the queue churns: dead rows
     * pile up (vacuum may not remove them), throughput drops, and the worker says why (its health
     * check runs every 5 s here, so it reports a transaction older than 5 s).
     */
    @Test
    void pinnedXminHorizon_deadRowsPileUp_andTheWorkerReportsIt() throws Exception {
        // One minute as usual, two minutes pinned, one minute after its release.
        Soak.Result result = Soak.run(new Soak.Plan(Long.MAX_VALUE, Duration.ofSeconds(10), Duration.ofSeconds(60),
                Duration.ofSeconds(120), split(System.getProperty("soak.settings", RECOMMENDED), ","), Duration.ofSeconds(5),
                Duration.ofSeconds(240), split(System.getProperty("soak.tableSql", ""), ";")));
        report("soak-pinned-xmin", result.samples(), result);
        assertThat(result.workerWarnings()).as("the worker reported the pinned horizon").isNotEmpty();
        assertThat(result.workerWarnings().get(0)).contains("holds back vacuum of job_queue");
    }

    private static String report(String name, List<Soak.Sample> samples, Soak.Result result) throws Exception {
        String table = Soak.Sample.header() + "\n" + samples.stream().map(Soak.Sample::line).collect(Collectors.joining("\n"))
                + "\n\nworker reports:\n" + String.join("\n", result.workerWarnings());
        System.out.println(table);
        Files.writeString(Path.of("target", name + ".md"), table + "\n");
        return table;
    }

    private static long maxSize(List<Soak.Sample> samples) {
        return samples.stream().mapToLong(s -> s.tableBytes() + s.indexBytes()).max().orElseThrow();
    }

    private static double average(List<Soak.Sample> samples) {
        return samples.stream().mapToDouble(Soak.Sample::jobsPerSecond).average().orElseThrow();
    }

    private static List<String> split(String text, String separator) {
        return Arrays.stream(text.split(separator)).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
