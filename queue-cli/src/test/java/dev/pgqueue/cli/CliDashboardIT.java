package dev.pgqueue.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobType;
import dev.pgqueue.cli.CliProcess.Result;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code pgqueue dashboard}: the jar serves queue-dashboard's pages for the database until it is
 * stopped; bad options and a port in use are one-line errors.
 */
@PostgresTest
class CliDashboardIT {

    record Mail(int n) {}

    private static final Pattern ADDRESS = Pattern.compile("pgqueue dashboard on (http://\\S+/) \\(schema (\\S+), read-only\\)");

    private final TestDatabase db;

    CliDashboardIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void seed(TestDatabase db) {
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        JdbiJobQueue.create(store).enqueue(JobType.of("send-mail", Mail.class), new Mail(1),
                EnqueueOptions.defaults().queue("dashboard-q"));
    }

    @Test
    void dashboard_servesTheOverviewOfThisDatabase_untilStopped() throws Exception {
        Process process = CliProcess.start("--url", db.server().jdbcUrl(), "--schema", db.schema(), "dashboard", "--port", "0");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(120, TimeUnit.SECONDS);
            assertThat(line).as("first line").isNotNull();
            Matcher address = ADDRESS.matcher(line);
            assertThat(address.find()).as(line).isTrue();
            assertThat(address.group(2)).isEqualTo(db.schema());

            URI overview = URI.create(address.group(1).replace("localhost", "127.0.0.1"));
            HttpResponse<String> page = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
                    .send(HttpRequest.newBuilder(overview).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("dashboard-q");
        } finally {
            process.destroy(); // SIGTERM, as Ctrl-C or a service manager stops it
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
        }
    }

    @Test
    void aPortInUse_isOneLineError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Result result = CliProcess.run("--url", db.server().jdbcUrl(), "--schema", db.schema(), "dashboard",
                    "--port", String.valueOf(taken.getLocalPort()));

            assertThat(result.exit()).as(result.toString()).isEqualTo(PgQueueCli.EXIT_ERROR);
            assertThat(result.err().strip()).startsWith("pgqueue: cannot serve the dashboard on 127.0.0.1:" + taken.getLocalPort() + ": ");
            assertThat(result.err()).doesNotContain("\tat ");
        }
    }

    @Test
    void readOnlyAndLocalActionsTogether_orABadPort_areUsageErrors() {
        Result both = CliProcess.run("--url", db.server().jdbcUrl(), "dashboard", "--read-only", "--allow-local-actions");
        assertThat(both.exit()).isEqualTo(PgQueueCli.EXIT_USAGE);
        assertThat(both.err().strip()).isEqualTo("pgqueue: expected --read-only or --allow-local-actions, got both");

        Result port = CliProcess.run("--url", db.server().jdbcUrl(), "dashboard", "--port", "70000");
        assertThat(port.exit()).isEqualTo(PgQueueCli.EXIT_USAGE);
        assertThat(port.err().strip()).isEqualTo("pgqueue: expected --port to be 0 to 65535, got: 70000");
    }
}
