package dev.pgqueue.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import jakarta.servlet.http.HttpServletRequest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DashboardServlet} in a real servlet container (Jetty 12, Jakarta Servlet 6) under a context
 * path and a servlet mapping: pages with links below both, an action through the servlet with the
 * authorizer reading the container's request, and a forged one refused.
 */
@PostgresTest
class DashboardServletTest {

    private final TestDatabase db;
    private Seed seed;
    private Server jetty;
    private URI base;

    DashboardServletTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void start() throws Exception {
        seed = Seed.create(db);
        Dashboard dashboard = Dashboard.builder(seed.admin)
                .authorizer(request -> request.unwrap(HttpServletRequest.class)
                        .map(servlet -> "ops".equals(servlet.getHeader("X-Test-Role")))
                        .orElse(false))
                .build();
        ServletContextHandler context = new ServletContextHandler("/app");
        context.addServlet(new ServletHolder(new DashboardServlet(dashboard)), "/pgqueue/*");
        jetty = new Server(new InetSocketAddress("127.0.0.1", 0));
        jetty.setHandler(context);
        jetty.start();
        base = URI.create("http://localhost:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort() + "/app/pgqueue/");
    }

    @AfterEach
    void stop() throws Exception {
        if (jetty != null) {
            jetty.stop();
        }
        if (seed != null) {
            seed.close();
        }
    }

    @Test
    void pages_linkBelowTheContextAndServletPath() throws Exception {
        WebClient web = new WebClient(base);
        HttpResponse<String> overview = web.get("");
        assertThat(overview.statusCode()).isEqualTo(200);
        assertThat(overview.body()).contains("href=\"/app/pgqueue/jobs?queue=images\"")
                .contains("/app/pgqueue/assets/dashboard.css?v=");
        assertThat(overview.headers().firstValue("Set-Cookie")).get().asString().contains("Path=/app/pgqueue/").contains("HttpOnly")
                .contains("SameSite=Strict");
        assertThat(web.get("assets/dashboard.css").headers().firstValue("Content-Type")).get().asString().startsWith("text/css");
        assertThat(web.get("jobs/" + seed.failedJob).body()).contains("&lt;script&gt;window.pwned=1");
        HttpResponse<Void> bare = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/app/pgqueue")).build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(bare.statusCode()).isEqualTo(303);
        assertThat(bare.headers().firstValue("Location")).get().asString().endsWith("/app/pgqueue/");
    }

    @Test
    void actions_goThroughTheAuthorizer_whichReadsTheServletRequest() throws Exception {
        UUID scratch = seed.queue.enqueue(Seed.EMAIL, new Seed.Msg("scratch"),
                EnqueueOptions.defaults().queue("scratch").delay(Duration.ofHours(1)));
        WebClient web = new WebClient(base);
        String token = web.token("");
        String form = "csrf=" + token + "&id=" + scratch + "&return=/jobs";

        assertThat(web.post("actions/delete", form, web.origin()).statusCode()).as("no role").isEqualTo(403);
        assertThat(send(web, form, "http://evil.example")).as("forged, with the role").isEqualTo(403);
        assertThat(seed.admin.job(scratch)).isPresent();

        assertThat(send(web, form, web.origin())).isEqualTo(303);
        assertThat(seed.admin.job(scratch)).isEmpty();
    }

    private int send(WebClient web, String form, String origin) throws Exception {
        return web.http.send(HttpRequest.newBuilder(base.resolve("actions/delete"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", origin)
                .header("X-Test-Role", "ops")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
