package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo as a user runs it, in a JVM of its own: it must finish and exit 0 by itself (a thread
 * left running would keep the JVM alive and fail this test by timeout). The README's exact command,
 * with its embedded PostgreSQL, is run by .ci/run.
 */
@PostgresTest
class DemoTest {

    private final TestDatabase db;

    DemoTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void demo_withTheJdbcUrlInTheEnvironment_generatesEveryPackWritesTheAssetsAndExitsZero(@TempDir Path out) throws Exception {
        Path log = out.resolve("demo.log");
        // The test server trusts local connections: the password is only there to be kept out of sight.
        String secret = "not-a-secret-" + UUID.randomUUID();
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                // The demo's own logging settings (src/main/resources), not the tests' chattier ones:
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                Demo.class.getName(),
                "--schema", db.schema(), "--projects", "2", "--concurrency", "4",
                "--out", out.resolve("assets").toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put(Demo.JDBC_URL_ENV, db.jdbcUrl() + "&password=" + secret);
        Process demo = builder.start();
        assertThat(demo.info().commandLine().orElse("")).as("what ps shows").doesNotContain(secret, "jdbc:");

        boolean exited = demo.waitFor(3, TimeUnit.MINUTES);
        if (!exited) {
            demo.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(exited).as("the demo exits by itself; its output:%n%s", output).isTrue();
        assertThat(demo.exitValue()).as("exit status; output:%n%s", output).isZero();
        assertThat(output)
                .contains("2 projects × 4 images × 4 variants = 32 images to render; 36 jobs")
                .containsPattern("jobs +36/36 \\(100%\\) +[0-9.]+ jobs/s")
                .containsPattern("done +2/2 projects COMPLETED in [0-9.]+ s: 36 jobs, [0-9.]+ jobs/s")
                .contains("outputs    " + out.resolve("assets").toAbsolutePath() + " (32 files, written in ")
                .containsPattern("wall time +[0-9.]+ s")
                .contains("password=***")
                .doesNotContain("WARN", "ERROR", "Exception", "INFO", secret);
        assertThat(output.lines().filter(line -> !line.startsWith("  jobs ")).map(line -> line.substring(0, 12).strip()))
                .as("a quiet console: one line per step, besides the progress lines")
                .containsExactly("pgqueue demo", "database", "service", "samples", "projects", "work", "done", "outputs",
                        "page", "wall time");
        try (Stream<Path> files = Files.walk(out.resolve("assets"))) {
            List<String> names = files.filter(Files::isRegularFile).map(path -> path.getFileName().toString()).toList();
            assertThat(names).hasSize(32).contains("harbour-thumbnail.png", "tower-web.jpg", "valley-watermarked.png");
        }
        assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE status = 'COMPLETED'")).isEqualTo(2);
    }

    @Test
    void demo_passwordInJdbcUrlOption_warnsThatPsShowsIt_andNeverPrintsIt() throws Exception {
        // Nothing listens on port 1: the demo fails right after its warning.
        Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Demo.class.getName(),
                "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/postgres?user=someone&password=hunter2-secret")
                .redirectErrorStream(true)
                .start();
        String output = new String(demo.getInputStream().readAllBytes());

        assertThat(demo.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(demo.exitValue()).isEqualTo(1);
        assertThat(output)
                .contains("database   jdbc:postgresql://127.0.0.1:1/postgres?user=someone&password=***")
                .contains("warning    --jdbc-url has a password, which other users of this machine can read in ps;"
                        + " set PGQUEUE_DEMO_JDBC_URL instead")
                .doesNotContain("hunter2");
    }

    @Test
    void help_saysThatAPasswordBelongsInTheEnvironment_andThatServingIsLocal() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        assertThat(Demo.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8))).isZero();

        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("A URL with a password belongs in $PGQUEUE_DEMO_JDBC_URL instead: every user of")
                .contains("this machine can read a command line (ps), not the environment")
                .contains("--bind ADDRESS    the address to serve on (default 127.0.0.1: this machine only)");
    }

    @Test
    void parse_servesOnLoopbackUnlessTold() {
        assertThat(Demo.parse(new String[] {"--serve"}).bind()).isEqualTo("127.0.0.1");
        assertThat(Demo.parse(new String[] {"--serve", "--bind", "0.0.0.0"}).bind()).isEqualTo("0.0.0.0");
    }

    @Test
    void demo_badOption_printsUsageAndExitsTwo() throws Exception {
        Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Demo.class.getName(), "--projects", "none")
                .redirectErrorStream(true)
                .start();
        String output = new String(demo.getInputStream().readAllBytes());

        assertThat(demo.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(demo.exitValue()).isEqualTo(2);
        assertThat(output).startsWith("expected --projects to be a number >= 1, got: none")
                .contains("usage: java -jar queue-examples/target/pgqueue-demo.jar");
    }
}
