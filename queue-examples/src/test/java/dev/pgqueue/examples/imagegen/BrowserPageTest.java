package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.WorkerListener;
import dev.pgqueue.dashboard.HeadlessChromium;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The page in a real headless browser: a person creates a project from the sample images, presses
 * Generate, and sees the status change live to COMPLETED and the thumbnails appear.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver}. Without them this test is
 * skipped, saying so, unless the environment sets {@code REQUIRE_BROWSER} (CI does): then it fails
 * ({@link HeadlessChromium#requireOrSkip()}, from queue-dashboard's test jar).
 * The screenshot it takes goes to {@code target/demo-page.png}; with
 * {@code -Dpgqueue.updateScreenshot=true} also to the README's {@code docs/demo-page.png}.
 */
@PostgresTest
class BrowserPageTest {

    private final TestDatabase db;

    BrowserPageTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void page_createGenerateAndWatch_showsCompletedWithThumbnails() throws Exception {
        HeadlessChromium.Installation installation = HeadlessChromium.requireOrSkip();

        try (ImageGenApp app = Fixtures.start(db, 4, 0, new WorkerListener() {});
             HeadlessChromium browser = HeadlessChromium.start(installation, 1200, 800)) {
            browser.navigate(app.httpAddress().orElseThrow());
            browser.type("#name", "Spring campaign");
            browser.click("#create-samples");
            browser.awaitScript("return document.querySelectorAll('#images .image').length === 4"
                    + " && !document.querySelector('#generate').disabled", Duration.ofSeconds(30));
            assertThat(browser.text("#status")).isEqualTo("DRAFT");

            browser.click("#generate");
            browser.awaitScript("return document.querySelector('#status').textContent === 'COMPLETED'"
                    + " && [...document.querySelectorAll('img.thumb')].filter(i => i.complete && i.naturalWidth > 0).length === 4",
                    Duration.ofSeconds(90));

            assertThat(browser.text("#history")).as("status changes the page received live")
                    .isEqualTo("seen: DRAFT → PENDING → PROCESSING → COMPLETED");
            assertThat(browser.text("#progress-text")).isEqualTo("16/16 images generated");
            assertThat(browser.text("#error")).isEmpty();
            assertThat(browser.script("return [...document.querySelectorAll('img.thumb')].map(i => i.naturalWidth)"))
                    .allSatisfy(width -> assertThat(width.asInt()).isBetween(1, 160));
            UUID projectId = UUID.fromString(browser.script(
                    "return new URLSearchParams(location.search).get('project')").asText());
            assertThat(app.projects().find(projectId).orElseThrow().status()).isEqualTo(ProjectStatus.COMPLETED);

            byte[] screenshot = browser.screenshot();
            Files.write(Path.of("target", "demo-page.png"), screenshot);
            if (Boolean.getBoolean("pgqueue.updateScreenshot")) {
                Files.write(Path.of("..", "docs", "demo-page.png"), screenshot);
            }
        }
    }
}
