package dev.pgqueue.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobCount;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The dashboard over HTTP, mounted on the JDK's server at a path prefix, against jobs in every state:
 * escaping, the CSRF and origin checks, the authorizer, read-only mode, hostile filter text, bad input,
 * the mount's boundaries, the stand-alone server's Host check and the bulk confirmation.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardHttpTest {

    private static final String MOUNT = "/ops/dash";
    private final TestDatabase db;
    private Seed seed;
    private HttpServer server;

    DashboardHttpTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    void start() throws Exception {
        seed = Seed.create(db);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.start();
    }

    @AfterAll
    void stop() {
        server.stop(0);
        seed.close();
    }

    /** Mounts a dashboard at {@code path} on the shared server; unmounted after the test. */
    private WebClient mount(String path, Dashboard dashboard) {
        dashboard.mount(server, path);
        mounted = path;
        return new WebClient(URI.create("http://localhost:" + server.getAddress().getPort() + path + "/"));
    }

    private String mounted;

    @AfterEach
    void unmount() {
        if (mounted != null) {
            server.removeContext(mounted);
            mounted = null;
        }
    }

    private WebClient open() {
        return mount(MOUNT, Dashboard.builder(seed.admin).authorizer(request -> true).build());
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Escaping {

        @Test
        void payloadAndError_withMarkup_areShownAsText() throws Exception {
            WebClient web = open();
            for (String page : new String[] {"jobs/" + seed.hostilePayloadJob, "jobs/" + seed.failedJob,
                    "jobs?type=resize-image", "failures", "jobs?error=" + Html.url(Seed.HOSTILE)}) {
                HttpResponse<String> r = web.get(page);
                assertThat(r.statusCode()).as(page).isEqualTo(200);
                assertThat(r.body()).as(page).doesNotContain("<script>window").doesNotContain("<img src=x")
                        .contains("&lt;script&gt;window.pwned=1&lt;/script&gt;");
            }
        }

        @Test
        void pages_sendAStrictContentSecurityPolicy() throws Exception {
            HttpResponse<String> r = open().get("");
            assertThat(r.headers().firstValue("Content-Security-Policy")).get().asString()
                    .contains("script-src 'self'").doesNotContain("unsafe-inline");
            assertThat(r.headers().firstValue("X-Frame-Options")).contains("DENY");
            assertThat(r.body()).doesNotContain("<script>").doesNotContain(" style=");
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Actions {

        @Test
        void forgedCrossSitePost_isRefused_andChangesNothing() throws Exception {
            WebClient web = open();
            String token = web.token("jobs/" + seed.failedJob);
            String form = "csrf=" + token + "&id=" + seed.failedJob + "&return=/";

            assertThat(web.post("actions/retry", form, "http://evil.example").statusCode()).isEqualTo(403);
            assertThat(web.post("actions/retry", form, null).statusCode()).as("no Origin, no Referer").isEqualTo(403);
            assertThat(web.post("actions/retry", "id=" + seed.failedJob, web.origin()).statusCode()).as("no token").isEqualTo(403);
            assertThat(web.post("actions/retry", "csrf=AAAA" + token.substring(4) + "&id=" + seed.failedJob, web.origin()).statusCode())
                    .as("wrong token").isEqualTo(403);
            WebClient stranger = new WebClient(web.base); // another browser: its own cookie, not the token's
            stranger.get("");
            assertThat(stranger.post("actions/retry", form, web.origin()).statusCode()).as("token of another client").isEqualTo(403);
            assertThat(seed.status(seed.failedJob)).isEqualTo(JobStatus.FAILED);

            // The same request from the dashboard's own page goes through.
            java.util.UUID scratch = seed.queue.enqueue(Seed.EMAIL, new Seed.Msg("scratch"),
                    dev.pgqueue.EnqueueOptions.defaults().queue("scratch").delay(Duration.ofHours(1)));
            HttpResponse<String> ok = web.post("actions/delete", "csrf=" + token + "&id=" + scratch + "&return=/jobs", web.origin());
            assertThat(ok.statusCode()).isEqualTo(303);
            assertThat(ok.headers().firstValue("Location")).get().asString().startsWith(MOUNT + "/jobs?done=");
            assertThat(seed.admin.job(scratch)).isEmpty();
            assertThat(web.get(ok.headers().firstValue("Location").get().substring(MOUNT.length() + 1)).body()).contains("Deleted 1 job.");
        }

        @Test
        void withoutAnAuthorizer_noActionIsShownOrAllowed() throws Exception {
            WebClient web = mount(MOUNT, Dashboard.builder(seed.admin).build());
            HttpResponse<String> page = web.get("jobs/" + seed.failedJob);
            assertThat(page.body()).contains("actions off: no authorizer").doesNotContain("/actions/retry");
            String token = web.token("jobs/" + seed.failedJob);
            HttpResponse<String> r = web.post("actions/retry", "csrf=" + token + "&id=" + seed.failedJob, web.origin());
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("no authorizer");
            assertThat(seed.status(seed.failedJob)).isEqualTo(JobStatus.FAILED);
        }

        @Test
        void anAuthorizerThatSaysNo_refuses() throws Exception {
            WebClient web = mount(MOUNT, Dashboard.builder(seed.admin).authorizer(request -> request.principal() != null).build());
            String token = web.token("jobs/" + seed.failedJob);
            assertThat(web.post("actions/retry", "csrf=" + token + "&id=" + seed.failedJob, web.origin()).statusCode()).isEqualTo(403);
            assertThat(seed.status(seed.failedJob)).isEqualTo(JobStatus.FAILED);
        }

        @Test
        void readOnly_refusesWhateverTheAuthorizerSays() throws Exception {
            WebClient web = mount(MOUNT, Dashboard.builder(seed.admin).authorizer(request -> true).readOnly(true).build());
            assertThat(web.get("").body()).contains("read-only").doesNotContain("/actions/");
            String token = web.token("jobs/" + seed.failedJob);
            assertThat(web.post("actions/retry", "csrf=" + token + "&id=" + seed.failedJob, web.origin()).statusCode()).isEqualTo(403);
            assertThat(seed.status(seed.failedJob)).isEqualTo(JobStatus.FAILED);
        }

        @Test
        void bulkByFilter_needsTheConfirmation_whichStatesHowManyWillChange() throws Exception {
            WebClient web = open();
            String token = web.token("");
            HttpResponse<String> unconfirmed = web.post("actions/delete", "csrf=" + token + "&type=send-email", web.origin());
            assertThat(unconfirmed.statusCode()).isEqualTo(400);
            assertThat(unconfirmed.body()).contains("confirmed on the confirmation page");

            // Five completed e-mails, two pending and one cancelled; a cancel changes only the two pending ones.
            HttpResponse<String> confirm = web.get("confirm?action=cancel&type=send-email");
            assertThat(confirm.body()).contains("Cancel 2 jobs matching type = send-email?");
            HttpResponse<String> deleteConfirm = web.get("confirm?action=delete&type=send-email&status=completed");
            assertThat(deleteConfirm.body()).contains("Delete 5 jobs matching status = completed, type = send-email?");
        }

        @Test
        void hidePayloads_showsNoPayloadAndOffersNoEdit() throws Exception {
            WebClient web = mount(MOUNT, Dashboard.builder(seed.admin).authorizer(request -> true).hidePayloads(true).build());
            String page = web.get("jobs/" + seed.failedJob).body();
            assertThat(page).contains("hidden (this dashboard hides payloads").doesNotContain("photo-0.png").doesNotContain("id=\"replay\"");
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Counts {

        @Test
        void overview_marksEstimatedCounts_andKeepsTheActionableOnesExact() throws Exception {
            db.execute("ANALYZE " + db.schema() + ".job_queue");
            // An exact-count limit of 1 row makes any table "large": finished totals become estimates.
            JdbiJobAdmin estimating = JdbiJobAdmin.builder(seed.store).exactCountLimit(1).build();
            WebClient web = mount("/estimating", Dashboard.builder(estimating).build());

            String body = web.get("").body();

            assertThat(body).contains("data-status=\"completed\" data-accuracy=\"estimate\" title=\"estimate from")
                    .contains("data-status=\"cancelled\" data-accuracy=\"estimate\"")
                    .contains("data-status=\"pending\" data-accuracy=\"exact\"")
                    .contains("data-status=\"processing\" data-accuracy=\"exact\"")
                    .doesNotContain("data-status=\"pending\" data-accuracy=\"estimate\"");
            assertThat(open().get("").body()).as("the default limit on a small table").doesNotContain("data-accuracy=\"estimate\"");
        }

        @Test
        void counts_showTheirAccuracy() {
            assertThat(Format.count(JobCount.exact(1204))).isEqualTo("1,204");
            assertThat(Format.count(JobCount.atLeast(10_000))).isEqualTo("10,000+");
            assertThat(Format.count(JobCount.estimate(915_392))).isEqualTo("≈ 915,000");
            assertThat(Format.count(JobCount.estimate(1_234_567))).isEqualTo("≈ 1,230,000");
            assertThat(Format.count(JobCount.estimate(42))).isEqualTo("≈ 42");
            assertThat(Format.accuracyNote(JobCount.exact(3))).isNull();
            assertThat(Format.accuracyNote(JobCount.atLeast(10_000))).isEqualTo("more than 10,000: counting stops there");
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Input {

        @Test
        void hostileFilterText_isAValue_notSql() throws Exception {
            WebClient web = open();
            long before = seed.admin.count(JobFilter.all());
            for (String hostile : new String[] {"' OR 1=1; DROP TABLE job_queue; --", "%", "_", "\\", "images' --"}) {
                for (String name : new String[] {"error", "queue", "type", "dedupe"}) {
                    HttpResponse<String> r = web.get("jobs?" + name + "=" + Html.url(hostile));
                    assertThat(r.statusCode()).as(name + "=" + hostile).isEqualTo(200);
                    assertThat(r.body()).as(name + "=" + hostile).contains("<span id=\"match-count\" data-accuracy=\"exact\">0</span>");
                }
            }
            assertThat(seed.admin.count(JobFilter.all())).isEqualTo(before);
        }

        @Test
        void badInput_isAClear400() throws Exception {
            WebClient web = open();
            HttpResponse<String> status = web.get("jobs?status=bogus");
            assertThat(status.statusCode()).isEqualTo(400);
            assertThat(status.body()).contains("expected status to be one of waiting, pending, processing, completed, failed, cancelled, got: bogus");
            assertThat(web.get("jobs/not-a-uuid").body()).contains("expected a job id (a UUID), got: not-a-uuid");
            assertThat(web.get("jobs?limit=100000").body()).contains("expected limit to be 1 to 500");
            assertThat(web.get("jobs?created_after=yesterday").body()).contains("expected created_after to be an ISO instant");
            assertThat(web.get("jobs/" + java.util.UUID.randomUUID()).statusCode()).isEqualTo(404);
        }

        @Test
        void mount_servesItsPathAndBelow_only() throws Exception {
            WebClient web = open();
            HttpClient plain = HttpClient.newHttpClient();
            URI root = URI.create("http://localhost:" + server.getAddress().getPort());
            HttpResponse<Void> bare = plain.send(HttpRequest.newBuilder(root.resolve(MOUNT)).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(bare.statusCode()).isEqualTo(303);
            assertThat(bare.headers().firstValue("Location")).contains(MOUNT + "/");
            assertThat(plain.send(HttpRequest.newBuilder(root.resolve(MOUNT + "x")).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode()).isEqualTo(404);
            assertThat(web.get("assets/dashboard.js").statusCode()).isEqualTo(200);
            assertThat(web.get("assets/../pom.xml").statusCode()).isEqualTo(404);
            assertThat(web.get("assets/nothing.js").statusCode()).isEqualTo(404);
        }

        @Test
        void mountPath_isChecked() {
            assertThatThrownBy(() -> Dashboard.builder(seed.admin).build().mount(server, "/ops/"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without a trailing /, got: /ops/");
            assertThatThrownBy(() -> Dashboard.builder(seed.admin).refreshInterval(Duration.ofMillis(10)))
                    .hasMessage("expected refreshInterval to be >= PT0.5S, got: PT0.01S");
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class StandAlone {

        @Test
        void aForeignHostHeader_isRefused() throws Exception {
            try (DashboardServer standAlone = DashboardServer.start(Dashboard.builder(seed.admin).build(), "127.0.0.1", 0)) {
                WebClient web = new WebClient(standAlone.address());
                assertThat(web.get("").statusCode()).isEqualTo(200);
                // A page on a DNS name rebound to 127.0.0.1 sends its own name as Host.
                java.net.Socket socket = new java.net.Socket("127.0.0.1", standAlone.address().getPort());
                try (socket) {
                    socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: evil.example:" + standAlone.address().getPort()
                            + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    assertThat(answer).startsWith("HTTP/1.1 421");
                }
            }
        }

        @Test
        void fromAJdbcUrl_servesAMigratedSchema_andNeverMigratesOne() throws Exception {
            DashboardServer.Options options = DashboardServer.Options.parse(new String[] {"--url", db.jdbcUrl(),
                    "--schema", db.schema(), "--port", "0"}, null);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            try (DashboardServer standAlone = DashboardServer.start(options, new java.io.PrintStream(out, true))) {
                WebClient web = new WebClient(standAlone.address());
                assertThat(web.get("").body()).contains("data-queue=\"images\"").contains("actions off: no authorizer");
            }
            assertThat(out.toString()).contains("pgqueue dashboard on http://localhost:").contains("(read-only)");

            String empty = db.schema() + "_empty";
            DashboardServer.Options unmigrated = DashboardServer.Options.parse(new String[] {"--url", db.jdbcUrl(),
                    "--schema", empty, "--port", "0"}, null);
            assertThatThrownBy(() -> DashboardServer.start(unmigrated, new java.io.PrintStream(out, true)))
                    .hasMessageContaining("schema " + empty + " is not ready for this pgqueue");
            assertThat(db.queryForLong("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = ?", empty)).isZero();
        }

        @Test
        void options_defaultToLoopbackAndReadOnly() {
            DashboardServer.Options o = DashboardServer.Options.parse(new String[] {"--url", "jdbc:postgresql://x/y"}, null);
            assertThat(o.bind()).isEqualTo("127.0.0.1");
            assertThat(o.allowLocalActions()).isFalse();
            assertThatThrownBy(() -> DashboardServer.Options.parse(new String[] {}, null))
                    .hasMessage("expected a JDBC URL (--url or PGQUEUE_JDBC_URL), got none");
            assertThatThrownBy(() -> DashboardServer.Options.parse(new String[] {"--url", "u", "--port", "70000"}, null))
                    .hasMessage("expected --port to be 0 to 65535, got: 70000");
        }
    }
}
