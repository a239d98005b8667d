package dev.pgqueue.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.admin.Page;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every page and action in a real headless Chromium, against jobs in every state and a running
 * worker: filter the jobs list, open a job (its markup-laden error shown as text, never run), retry a
 * workflow from its failed job, edit a failed job's payload and replay it, retry a failure group
 * through its confirmation and watch it complete live; pause a queue, see claims stop, resume.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver}; without them the tests are skipped,
 * saying so, unless {@code REQUIRE_BROWSER} is set (CI sets it): then they fail. Screenshots go to
 * {@code target/screenshots/}; with {@code -Dpgqueue.updateScreenshot=true} also to {@code docs/}.
 */
@PostgresTest
class DashboardBrowserTest {

    private final TestDatabase db;
    private Seed seed;
    private HttpServer server;
    private URI base;

    DashboardBrowserTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void start() throws Exception {
        seed = Seed.create(db);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        Dashboard.builder(seed.admin).authorizer(Authorizer.loopbackOnly()).refreshInterval(Duration.ofSeconds(1))
                .health("test worker", () -> healthOf(seed)).build()
                .mount(server, "/dashboard");
        server.start();
        base = URI.create("http://localhost:" + server.getAddress().getPort() + "/dashboard/");
    }

    /** The worker's health probe; {@code Worker.health()} where the worker has one. */
    private static dev.pgqueue.Health healthOf(Seed seed) {
        return new dev.pgqueue.Health(seed.worker.isRunning() ? dev.pgqueue.Health.Status.UP : dev.pgqueue.Health.Status.DOWN,
                java.util.List.of(), null, true, true, 0);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
        if (seed != null) {
            seed.close();
        }
    }

    @Test
    void filterOpenRetryWorkflowReplayAndRetryAGroup() throws Exception {
        HeadlessChromium.Installation installation = HeadlessChromium.requireOrSkip();
        try (HeadlessChromium browser = HeadlessChromium.start(installation, 1400, 900)) {
            // Overview: every queue with its counts.
            browser.navigate(base);
            browser.awaitScript("return !!document.querySelector('#queues tr[data-queue=\"images\"]')", Duration.ofSeconds(10));
            assertThat(browser.text("#queues tr[data-queue='images'] td[data-status='failed']")).isEqualTo("3");
            assertThat(browser.text("#queues tr[data-queue='video'] td[data-status='processing']")).isEqualTo("1");
            assertThat(browser.text("#queues tr[data-queue='video'] td[data-status='waiting']")).isEqualTo("1");
            // The charts are counted in the background on a first visit, and appear with a refresh.
            browser.awaitScript("return document.querySelectorAll('#queues svg.chart').length === 3", Duration.ofSeconds(10));
            screenshot(browser, "dashboard-overview.png");

            // Jobs: filter by status and queue through the form.
            browser.navigate(base.resolve("jobs"));
            browser.click("input[name='status'][value='failed']");
            browser.type("#f-queue", "images");
            browser.click("#apply-filter");
            browser.awaitScript("return location.search.includes('status=failed')"
                    + " && document.querySelector('#match-count').textContent === '3'", Duration.ofSeconds(10));
            assertThat(browser.script("return document.querySelectorAll('#jobs tr.job').length").asInt()).isEqualTo(3);
            screenshot(browser, "dashboard-jobs.png");

            // Open a job: its error, markup and all, is text; nothing in it ran.
            browser.press("#jobs tr.job td a");
            browser.awaitScript("return !!document.querySelector('#error')", Duration.ofSeconds(10));
            assertThat(browser.text("#error")).contains("resize failed: " + Seed.HOSTILE);
            assertThat(browser.script("return typeof window.pwned").asText()).isEqualTo("undefined");
            assertThat(browser.script("return document.querySelectorAll('#error script, #error img').length").asInt()).isZero();

            // The failure groups, before any retry.
            browser.navigate(base.resolve("failures"));
            browser.awaitScript("return document.querySelectorAll('#groups tr.group').length === 1", Duration.ofSeconds(10));
            screenshot(browser, "dashboard-failures.png");

            // A workflow step cancelled because photo-0 failed: its graph, and a retry from the failed job.
            browser.navigate(base.resolve("jobs/" + seed.cancelledStep));
            browser.awaitScript("return document.querySelectorAll('svg.graph a.node').length === 3", Duration.ofSeconds(10));
            screenshot(browser, "dashboard-job.png");
            seed.resizeFixed.set(true);
            browser.press("#retry-workflow");
            browser.awaitScript("return (document.querySelector('#flash') || {}).textContent === 'Retried 1 job.'", Duration.ofSeconds(10));
            // No reload from here on: the live part shows the step run and complete.
            browser.awaitScript("return document.querySelector('.jobhead .badge').textContent === 'completed'", Duration.ofSeconds(30));
            assertThat(seed.status(seed.failedJob)).isEqualTo(JobStatus.COMPLETED);

            // Edit a failed job's payload and replay it.
            UUID photo1 = failedResize("photo-1.png");
            browser.navigate(base.resolve("jobs/" + photo1));
            browser.awaitScript("return !!document.querySelector('#replay-payload')", Duration.ofSeconds(10));
            browser.type("#replay-payload", "{\"text\": \"photo-1-fixed.png\"}");
            browser.type("#replay-reason", "file was renamed");
            browser.click("#replay-submit");
            browser.awaitScript("return ((document.querySelector('#flash') || {}).textContent || '').startsWith('Replayed job')", Duration.ofSeconds(10));
            browser.awaitScript("return document.querySelector('.jobhead .badge').textContent === 'completed'", Duration.ofSeconds(30));
            assertThat(seed.job(photo1).payloadJson()).contains("photo-1-fixed.png");

            // Retry what is left of the group, through the confirmation that says how many.
            browser.navigate(base.resolve("failures"));
            browser.awaitScript("return document.querySelectorAll('#groups tr.group').length === 1", Duration.ofSeconds(10));
            assertThat(browser.text("#groups tr.group td.num")).isEqualTo("1");
            browser.press("#groups a[data-action='retry']");
            browser.awaitScript("return !!document.querySelector('#confirm-text')", Duration.ofSeconds(10));
            assertThat(browser.text("#confirm-text")).startsWith("Retry 1 job matching ");
            browser.press("#confirm-submit");
            browser.awaitScript("return (document.querySelector('#flash') || {}).textContent === 'Retried 1 job.'", Duration.ofSeconds(10));
            // The list it returns to (the group's jobs) empties live as the worker completes them.
            browser.awaitScript("return document.querySelector('#match-count').textContent === '0'", Duration.ofSeconds(30));
            assertThat(seed.admin.count(JobFilter.builder().types(Seed.RESIZE.name()).statuses(JobStatus.COMPLETED).build())).isEqualTo(3);

            browser.navigate(base.resolve("tables"));
            browser.awaitScript("return !!document.querySelector('#table-stats')", Duration.ofSeconds(10));
            screenshot(browser, "dashboard-tables.png");
        }
    }

    @Test
    void pauseStopsClaims_resumeStartsThemAgain() throws Exception {
        HeadlessChromium.Installation installation = HeadlessChromium.requireOrSkip();
        try (HeadlessChromium browser = HeadlessChromium.start(installation, 1400, 900)) {
            browser.navigate(base);
            browser.awaitScript("return !!document.querySelector('#queues tr[data-queue=\"emails\"] button[data-action=\"pause\"]')",
                    Duration.ofSeconds(10));
            browser.press("#queues tr[data-queue='emails'] button[data-action='pause']");
            browser.awaitScript("return (document.querySelector('#flash') || {}).textContent === 'Paused queue emails.'", Duration.ofSeconds(10));
            assertThat(browser.text("#queues tr[data-queue='emails'] .badge")).isEqualTo("paused");
            Thread.sleep(2_500); // workers stop claiming within about a second of a pause; a loaded machine, more

            UUID job = seed.queue.enqueue(Seed.EMAIL, new Seed.Msg("while paused"), EnqueueOptions.defaults().queue("emails"));
            Thread.sleep(3_000); // 15 of the worker's polls
            assertThat(seed.status(job)).isEqualTo(JobStatus.PENDING);

            browser.press("#queues tr[data-queue='emails'] button[data-action='resume']");
            browser.awaitScript("return (document.querySelector('#flash') || {}).textContent === 'Resumed queue emails.'", Duration.ofSeconds(10));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> seed.status(job) == JobStatus.COMPLETED);

            browser.navigate(base.resolve("workers"));
            browser.awaitScript("return document.querySelectorAll('#workers tbody tr').length >= 1"
                    + " && !document.querySelector('#workers .empty')", Duration.ofSeconds(10));
            assertThat(browser.text("#health")).contains("test worker").contains("UP");
            screenshot(browser, "dashboard-workers.png");
            browser.navigate(base.resolve("recurring"));
            browser.awaitScript("return !!document.querySelector('#schedules')", Duration.ofSeconds(10));
        }
    }

    private UUID failedResize(String text) {
        return seed.admin.find(JobFilter.builder().types(Seed.RESIZE.name()).statuses(JobStatus.FAILED).build(), Page.newestFirst(10))
                .jobs().stream().filter(j -> j.payloadJson().contains(text)).map(JobSnapshot::id).findFirst().orElseThrow();
    }

    private static void screenshot(HeadlessChromium browser, String name) throws Exception {
        byte[] png = browser.screenshot();
        Path dir = Path.of("target", "screenshots");
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), png);
        if (Boolean.getBoolean("pgqueue.updateScreenshot")) {
            Files.write(Path.of("..", "docs", name), png);
        }
    }
}
