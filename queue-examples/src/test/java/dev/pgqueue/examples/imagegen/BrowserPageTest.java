package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The page in a real headless browser: a person creates a project from the sample images, presses
 * Generate, and sees the status change live to COMPLETED and the thumbnails appear.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver}. Without them this test is
 * skipped, saying so, unless the environment sets {@value #REQUIRE_BROWSER}=1 (CI does): then it fails.
 * The screenshot it takes goes to {@code target/demo-page.png}; with
 * {@code -Dpgqueue.updateScreenshot=true} also to the README's {@code docs/demo-page.png}.
 */
@PostgresTest
class BrowserPageTest {

    static final String REQUIRE_BROWSER = "REQUIRE_BROWSER";

    private final TestDatabase db;

    BrowserPageTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void page_createGenerateAndWatch_showsCompletedWithThumbnails() throws Exception {
        Optional<HeadlessChromium.Installation> installation = HeadlessChromium.find();
        if (installation.isEmpty()) {
            String message = "no headless browser: chromium and chromedriver are not on the PATH"
                    + " (Debian: apt-get install -y chromium chromium-driver)";
            if ("1".equals(System.getenv(REQUIRE_BROWSER))) {
                fail(message + ", and " + REQUIRE_BROWSER + "=1 requires them");
            }
            Assumptions.abort(message + "; skipping the browser test");
        }

        try (ImageGenApp app = Fixtures.start(db, 4, 0, new WorkerListener() {});
             HeadlessChromium browser = HeadlessChromium.start(installation.get(), 1200, 800)) {
            browser.navigate(app.httpAddress().orElseThrow());
            browser.type("#name", "Spring campaign");
            browser.click("#create-samples");
            awaitScript(browser, "return document.querySelectorAll('#images .image').length === 4"
                    + " && !document.querySelector('#generate').disabled", Duration.ofSeconds(30));
            assertThat(text(browser, "#status")).isEqualTo("DRAFT");

            browser.click("#generate");
            awaitScript(browser, "return document.querySelector('#status').textContent === 'COMPLETED'"
                    + " && [...document.querySelectorAll('img.thumb')].filter(i => i.complete && i.naturalWidth > 0).length === 4",
                    Duration.ofSeconds(90));

            assertThat(text(browser, "#history")).as("status changes the page received live")
                    .isEqualTo("seen: DRAFT → PENDING → PROCESSING → COMPLETED");
            assertThat(text(browser, "#progress-text")).isEqualTo("16/16 images generated");
            assertThat(text(browser, "#error")).isEmpty();
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

    private static String text(HeadlessChromium browser, String css) throws Exception {
        return browser.script("return document.querySelector('" + css + "').textContent").asText();
    }

    private static void awaitScript(HeadlessChromium browser, String condition, Duration atMost) throws Exception {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!browser.script(condition).asBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("page did not reach (" + condition + ") within " + atMost + "; status "
                        + text(browser, "#status") + ", history " + text(browser, "#history")
                        + ", error " + text(browser, "#error"));
            }
            Thread.sleep(100);
        }
    }
}
