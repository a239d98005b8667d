package dev.pgqueue.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven through chromedriver's W3C WebDriver HTTP protocol, with the
 * JDK's HTTP client: the few commands a page test needs, and no Selenium. One browser session per
 * instance; {@link #close()} ends it, stops chromedriver and deletes the browser profile and the
 * driver's log.
 *
 * <p>Shared with queue-examples' page test through this module's test jar.
 */
public final class HeadlessChromium implements AutoCloseable {

    /** chromedriver's key for an element reference in JSON. */
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
    private static final List<String> BROWSERS = List.of("chromium", "chromium-browser", "google-chrome");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newHttpClient();
    private final Process driver;
    private final Path driverLog;
    private final Path profile;
    private final URI session;

    /** The installed browser and driver, if both are on the PATH. */
    public record Installation(Path browser, Path driver) {}

    public static Optional<Installation> find() {
        Optional<Path> driver = onPath("chromedriver");
        Optional<Path> browser = BROWSERS.stream().map(HeadlessChromium::onPath).flatMap(Optional::stream).findFirst();
        return driver.isPresent() && browser.isPresent()
                ? Optional.of(new Installation(browser.get(), driver.get()))
                : Optional.empty();
    }

    private HeadlessChromium(Process driver, Path driverLog, Path profile, URI session) {
        this.driver = driver;
        this.driverLog = driverLog;
        this.profile = profile;
        this.session = session;
    }

    /** Starts chromedriver and a headless browser with a fresh profile and a window of the given size. */
    public static HeadlessChromium start(Installation installation, int width, int height) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = Files.createTempFile("chromedriver", ".log");
        Process driver = new ProcessBuilder(installation.driver().toString(), "--port=" + port)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        Path profile = Files.createTempDirectory("chromium-profile");
        try {
            URI base = URI.create("http://127.0.0.1:" + port + "/");
            HttpClient http = HttpClient.newHttpClient();
            awaitReady(http, base, driver, log);
            ObjectNode options = JSON.createObjectNode();
            options.put("binary", installation.browser().toString());
            options.putPOJO("args", List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                    "--window-size=" + width + "," + height, "--user-data-dir=" + profile));
            JsonNode created = post(http, base.resolve("session"), Map.of("capabilities",
                    Map.of("alwaysMatch", Map.of("browserName", "chrome", "goog:chromeOptions", options))));
            String id = created.path("sessionId").asText();
            return new HeadlessChromium(driver, log, profile, base.resolve("session/" + id + "/"));
        } catch (Exception | Error e) {
            driver.descendants().forEach(ProcessHandle::destroy);
            driver.destroy();
            deleteRecursively(profile);
            deleteRecursively(log);
            throw e;
        }
    }

    public static final String REQUIRE_BROWSER = "REQUIRE_BROWSER";

    /**
     * The installed browser; without one the calling test is skipped, saying so, unless the environment
     * sets {@value #REQUIRE_BROWSER} (to anything; CI sets 1): then it fails.
     */
    public static Installation requireOrSkip() {
        Optional<Installation> installation = find();
        if (installation.isEmpty()) {
            String message = "no headless browser: chromium and chromedriver are not on the PATH"
                    + " (Debian: apt-get install -y chromium chromium-driver)";
            String required = System.getenv(REQUIRE_BROWSER);
            if (required != null && !required.isBlank()) {
                org.junit.jupiter.api.Assertions.fail(message + ", and " + REQUIRE_BROWSER + " is set, which requires them");
            }
            org.junit.jupiter.api.Assumptions.abort(message + "; skipping the browser test");
        }
        return installation.get();
    }

    /** The text content of the element {@code css} selects, or null if there is none. */
    public String text(String css) throws Exception {
        JsonNode v = script("var e = document.querySelector(" + JSON.writeValueAsString(css) + "); return e ? e.textContent : null");
        return v.isNull() ? null : v.asText();
    }

    /**
     * Polls {@code condition} (a script returning a boolean) until it is true; fails after {@code atMost}.
     * A script error counts as "not yet" (a page being replaced after a click may not have the
     * element the condition reads), and the last one is reported if the time runs out.
     */
    public void awaitScript(String condition, Duration atMost) throws Exception {
        long deadline = System.nanoTime() + atMost.toNanos();
        IllegalStateException lastError = null;
        while (true) {
            try {
                if (script(condition).asBoolean()) {
                    return;
                }
                lastError = null;
            } catch (IllegalStateException scriptFailed) {
                lastError = scriptFailed;
            }
            if (System.nanoTime() > deadline) {
                AssertionError timedOut = new AssertionError("page did not reach (" + condition + ") within " + atMost + "; at "
                        + script("return location.href").asText() + ": "
                        + cut(script("return document.body ? document.body.innerText : ''").asText(), 2000));
                if (lastError != null) {
                    timedOut.addSuppressed(lastError);
                }
                throw timedOut;
            }
            Thread.sleep(100);
        }
    }

    public void navigate(URI url) throws Exception {
        post(http, session.resolve("url"), Map.of("url", url.toString()));
    }

    /** Clicks the element that {@code css} selects, as a user would. */
    public void click(String css) throws Exception {
        post(http, session.resolve("element/" + element(css) + "/click"), Map.of());
    }

    /**
     * Clicks the element that {@code css} selects from inside the page, in one step: for elements in a
     * part of the page that refreshes itself, which a WebDriver click (find, then click) could find
     * replaced in between.
     */
    public void press(String css) throws Exception {
        JsonNode found = script("var e = document.querySelector(" + JSON.writeValueAsString(css) + "); if (!e) { return false; } e.click(); return true;");
        if (!found.asBoolean()) {
            throw new AssertionError("nothing to press at " + css);
        }
    }

    /** Replaces the text of the input that {@code css} selects by typing {@code text}. */
    public void type(String css, String text) throws Exception {
        String element = element(css);
        post(http, session.resolve("element/" + element + "/clear"), Map.of());
        post(http, session.resolve("element/" + element + "/value"), Map.of("text", text));
    }

    /** Runs {@code script} (a function body; use {@code return}) in the page and returns its result. */
    public JsonNode script(String script) throws Exception {
        return post(http, session.resolve("execute/sync"), Map.of("script", script, "args", List.of()));
    }

    /** A PNG of the window. */
    public byte[] screenshot() throws Exception {
        return Base64.getDecoder().decode(get(http, session.resolve("screenshot")).asText());
    }

    /**
     * Ends the session, which quits the browser, then stops chromedriver. Stopping chromedriver alone
     * would leave the browser running, so whatever it started and is still alive is ended too.
     */
    @Override
    public void close() {
        try {
            URI end = URI.create(session.toString().replaceAll("/$", "")); // DELETE /session/{id}, no trailing slash
            http.send(HttpRequest.newBuilder(end).DELETE().build(), HttpResponse.BodyHandlers.discarding());
        } catch (IOException | InterruptedException e) {
            // the processes are ended below either way
        } finally {
            List<ProcessHandle> started = driver.descendants().toList();
            started.forEach(ProcessHandle::destroy);
            driver.destroy();
            for (ProcessHandle process : started) {
                process.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(timeout -> {
                    process.destroyForcibly();
                    return process;
                }).join();
            }
            deleteRecursively(profile);
            deleteRecursively(driverLog);
        }
    }

    private String element(String css) throws Exception {
        return post(http, session.resolve("element"), Map.of("using", "css selector", "value", css)).path(ELEMENT).asText();
    }

    private static void awaitReady(HttpClient http, URI base, Process driver, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (!driver.isAlive()) {
                throw new IllegalStateException("chromedriver exited: " + Files.readString(log));
            }
            try {
                if (get(http, base.resolve("status")).path("ready").asBoolean()) {
                    return;
                }
            } catch (IOException notYetListening) {
                // retry
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("chromedriver did not become ready in 20 s: " + Files.readString(log));
    }

    private static JsonNode post(HttpClient http, URI uri, Object body) throws Exception {
        return value(http, HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                .build());
    }

    private static JsonNode get(HttpClient http, URI uri) throws Exception {
        return value(http, HttpRequest.newBuilder(uri).GET().build());
    }

    /** The {@code value} of a WebDriver response; a WebDriver error becomes an exception with its message. */
    private static JsonNode value(HttpClient http, HttpRequest request) throws Exception {
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        JsonNode value = JSON.readTree(response.body()).path("value");
        if (response.statusCode() != 200) {
            throw new IllegalStateException("WebDriver " + request.method() + " " + request.uri().getPath() + " failed: "
                    + value.path("error").asText() + ": " + value.path("message").asText());
        }
        return value;
    }

    private static String cut(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "…";
    }

    private static Optional<Path> onPath(String command) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, command))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** Best effort: a browser process still exiting may hold on to a file for a moment. */
    private static void deleteRecursively(Path path) {
        try (Stream<Path> paths = Files.walk(path)) {
            for (Path each : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(each);
            }
        } catch (IOException | UncheckedIOException e) {
            // left for the OS's temporary-file cleanup
        }
    }
}
