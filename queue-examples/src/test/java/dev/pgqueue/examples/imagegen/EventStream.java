package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A Server-Sent Events client for tests: parses the stream on a thread of its own into a queue. */
final class EventStream implements AutoCloseable {

    /** One event: its {@code event:} type and its {@code data:} as JSON. */
    record Event(String type, JsonNode data) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final InputStream body;

    private EventStream(InputStream body) {
        this.body = body;
        Thread reader = new Thread(this::read, "test-sse-reader");
        reader.setDaemon(true);
        reader.start();
    }

    static EventStream open(HttpClient http, URI uri) throws IOException, InterruptedException {
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(uri).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
        return new EventStream(response.body());
    }

    /** The next event, waiting up to {@code timeout}; fails the test if none comes. */
    Event next(Duration timeout) throws InterruptedException {
        Event event = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(event).as("an event within %s", timeout).isNotNull();
        return event;
    }

    @Override
    public void close() throws IOException {
        body.close();
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String type = "message";
            StringBuilder data = new StringBuilder();
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.isEmpty()) {
                    if (data.length() > 0) {
                        events.add(new Event(type, JSON.readTree(data.toString())));
                    }
                    type = "message";
                    data.setLength(0);
                } else if (line.startsWith("event: ")) {
                    type = line.substring("event: ".length());
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring("data: ".length()));
                }
            }
        } catch (IOException e) {
            // Closed by the test or by the server: a test still waiting for an event fails in next().
        }
    }
}
