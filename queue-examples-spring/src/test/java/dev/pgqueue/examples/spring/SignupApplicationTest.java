package dev.pgqueue.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.testing.postgres.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ContextConfiguration;

/** The sample end to end over HTTP: sign up, the welcome mail runs, a taken address queues nothing, health. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "pgqueue.worker.poll-interval=200ms")
@ContextConfiguration(initializers = TestPostgres.class)
@DirtiesContext
class SignupApplicationTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort int port;
    @Autowired TestDatabase db;

    @Test
    void signUp_welcomesTheNewAddress() throws Exception {
        HttpResponse<String> created = post("/signups", "{\"email\":\"ada@example.com\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        String location = created.headers().firstValue("Location").orElseThrow();

        await().atMost(Duration.ofSeconds(15)).until(() -> get(location).body().contains("\"welcomed_at\":\"20"));
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'welcome-mail' AND status = 'completed'"
                + " AND (payload->>'signupId')::bigint = ?", Long.parseLong(location.substring("/signups/".length()))))
                .isEqualTo(1);
    }

    @Test
    void signUp_withATakenAddress_queuesNoMail() throws Exception {
        assertThat(post("/signups", "{\"email\":\"grace@example.com\"}").statusCode()).isEqualTo(201);
        long jobs = db.queryForLong("SELECT count(*) FROM job_queue");

        HttpResponse<String> again = post("/signups", "{\"email\":\"grace@example.com\"}");

        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue")).isEqualTo(jobs);
    }

    @Test
    void health_reportsTheWorker() throws Exception {
        HttpResponse<String> health = get("/actuator/health");

        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"pgqueue\":{\"status\":\"UP\"");
    }

    @Test
    void dashboard_isMountedByTheProperty() throws Exception {
        HttpResponse<String> page = get("/pgqueue/");

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
        assertThat(page.body()).contains("pgqueue");
    }

    private HttpResponse<String> post(String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
