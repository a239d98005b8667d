package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The HTTP API over a real socket, with the worker running behind it. */
@PostgresTest
class HttpApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static TestDatabase db;
    private static ImageGenApp app;
    private static URI base;

    @BeforeAll
    static void start(TestDatabase database) throws Exception {
        db = database;
        app = Fixtures.start(db, 4, 0, new WorkerListener() {});
        base = app.httpAddress().orElseThrow();
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    record Response(int status, JsonNode json, HttpResponse<byte[]> raw) {}

    private static Response send(String method, String path, byte[] body, String contentType) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
                .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        HttpResponse<byte[]> response = HTTP.send(request.build(), BodyHandlers.ofByteArray());
        boolean isJson = response.headers().firstValue("Content-Type").orElse("").startsWith("application/json");
        return new Response(response.statusCode(), isJson ? JSON.readTree(response.body()) : null, response);
    }

    private static Response createProject(String name) throws Exception {
        return send("POST", "/projects", ("{\"name\": \"" + name + "\"}").getBytes(StandardCharsets.UTF_8), "application/json");
    }

    private static String newProject() throws Exception {
        return createProject("api").json().get("id").asText();
    }

    private static Response upload(String projectId, String name, byte[] bytes) throws Exception {
        return send("POST", "/projects/" + projectId + "/images?name=" + name, bytes, "application/octet-stream");
    }

    @Nested
    class Projects {

        @Test
        void create_returns201WithTheDraftProjectAndWhereItIs() throws Exception {
            Response response = createProject("Launch");

            assertThat(response.status()).isEqualTo(201);
            assertThat(response.json().get("name").asText()).isEqualTo("Launch");
            assertThat(response.json().get("status").asText()).isEqualTo("DRAFT");
            assertThat(response.json().get("userId").asText()).isEqualTo(HttpApi.DEMO_USER.toString());
            assertThat(response.raw().headers().firstValue("Location"))
                    .hasValue("/projects/" + response.json().get("id").asText());
        }

        @Test
        void create_blankName_is400WithTheRule() throws Exception {
            Response response = createProject(" ");

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText()).isEqualTo("expected name to be 1-200 characters, got: 0");
        }

        @Test
        void create_notJson_is400() throws Exception {
            Response response = send("POST", "/projects", "name=x".getBytes(StandardCharsets.UTF_8), "text/plain");

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText()).startsWith("invalid JSON: ");
        }

        @Test
        void get_returnsTheProjectWithItsImages() throws Exception {
            String id = newProject();
            upload(id, "one.png", Fixtures.image(40, 30, "png", 1));

            Response response = send("GET", "/projects/" + id, null, null);

            assertThat(response.status()).isEqualTo(200);
            JsonNode image = response.json().get("images").get(0);
            assertThat(image.get("fileName").asText()).isEqualTo("one.png");
            assertThat(image.get("width").asInt()).isEqualTo(40);
            assertThat(image.get("assets")).isEmpty();
        }

        @Test
        void get_unknownProject_is404() throws Exception {
            UUID unknown = UUID.randomUUID();

            Response response = send("GET", "/projects/" + unknown, null, null);

            assertThat(response.status()).isEqualTo(404);
            assertThat(response.json().get("error").asText()).isEqualTo("no project " + unknown);
            assertThat(send("GET", "/projects/not-a-uuid", null, null).status()).isEqualTo(404);
        }
    }

    @Nested
    class Images {

        @Test
        void upload_storesTheImageAndServesItBack() throws Exception {
            String id = newProject();
            byte[] jpeg = Fixtures.image(64, 48, "jpeg", 2);

            Response response = upload(id, "photo.jpg", jpeg);

            assertThat(response.status()).isEqualTo(201);
            assertThat(response.json().get("format").asText()).isEqualTo("jpeg");
            assertThat(response.json().get("width").asInt()).isEqualTo(64);
            assertThat(response.json().get("height").asInt()).isEqualTo(48);
            Response served = send("GET", response.json().get("url").asText(), null, null);
            assertThat(served.status()).isEqualTo(200);
            assertThat(served.raw().headers().firstValue("Content-Type")).hasValue("image/jpeg");
            assertThat(served.raw().body()).isEqualTo(jpeg);
        }

        @Test
        void upload_notAnImage_is400WithAMessage() throws Exception {
            Response response = upload(newProject(), "notes.txt", "just some text".getBytes(StandardCharsets.UTF_8));

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText()).isEqualTo("not an image: expected PNG, JPEG, GIF or BMP");
        }

        @Test
        void upload_overTheLimit_is413SayingTheLimit() throws Exception {
            Response response = upload(newProject(), "huge.png", new byte[HttpApi.MAX_UPLOAD_BYTES + 1]);

            assertThat(response.status()).isEqualTo(413);
            assertThat(response.json().get("error").asText())
                    .isEqualTo("upload too large: the limit is 10 MiB (10485760 bytes)");
        }

        @Test
        void upload_unknownProject_is404() throws Exception {
            Response response = upload(UUID.randomUUID().toString(), "a.png", Fixtures.image(8, 8, "png", 3));

            assertThat(response.status()).isEqualTo(404);
        }

        @Test
        void upload_afterGenerate_is409() throws Exception {
            String id = newProject();
            upload(id, "a.png", Fixtures.image(8, 8, "png", 4));
            send("POST", "/projects/" + id + "/generate", null, null);

            Response response = upload(id, "b.png", Fixtures.image(8, 8, "png", 5));

            assertThat(response.status()).isEqualTo(409);
            assertThat(response.json().get("error").asText()).contains("images can be added only before generating");
        }
    }

    @Nested
    class Generate {

        @Test
        void generate_returns202WithTheJobAndTheProjectCompletes() throws Exception {
            String id = newProject();
            upload(id, "a.png", Fixtures.image(200, 100, "png", 6));

            Response response = send("POST", "/projects/" + id + "/generate", null, null);

            assertThat(response.status()).isEqualTo(202);
            String jobId = response.json().get("jobId").asText();
            assertThat(app.queue().find(UUID.fromString(jobId))).isPresent();
            Fixtures.awaitPacks(db, List.of(UUID.fromString(id)), Duration.ofMinutes(1));
            JsonNode project = send("GET", "/projects/" + id, null, null).json();
            assertThat(project.get("status").asText()).isEqualTo("COMPLETED");
            assertThat(project.get("packJobId").asText()).isEqualTo(jobId);
            for (JsonNode asset : project.get("images").get(0).get("assets")) {
                Response image = send("GET", asset.get("url").asText(), null, null);
                assertThat(image.status()).isEqualTo(200);
                assertThat(image.raw().headers().firstValue("Content-Type")).hasValue("image/" + asset.get("format").asText());
                assertThat(ImageIO.read(new ByteArrayInputStream(image.raw().body())).getWidth()).isEqualTo(asset.get("width").asInt());
            }
        }

        @Test
        void generate_twice_is409() throws Exception {
            String id = newProject();
            upload(id, "a.png", Fixtures.image(8, 8, "png", 7));
            send("POST", "/projects/" + id + "/generate", null, null);

            Response response = send("POST", "/projects/" + id + "/generate", null, null);

            assertThat(response.status()).isEqualTo(409);
            assertThat(response.json().get("error").asText()).contains("its pack was requested already");
        }

        @Test
        void generate_withoutImages_is400() throws Exception {
            Response response = send("POST", "/projects/" + newProject() + "/generate", null, null);

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText()).endsWith("has no images: add some before generating");
        }

        @Test
        void generate_unknownProject_is404() throws Exception {
            assertThat(send("POST", "/projects/" + UUID.randomUUID() + "/generate", null, null).status()).isEqualTo(404);
        }
    }

    @Nested
    class Events {

        @Test
        void events_sendASnapshotThenEveryChangeInCommitOrder() throws Exception {
            String id = newProject();
            upload(id, "a.png", Fixtures.image(120, 80, "png", 8));
            upload(id, "b.jpg", Fixtures.image(80, 120, "jpeg", 9));

            try (EventStream events = EventStream.open(HTTP, base.resolve("/projects/" + id + "/events"))) {
                EventStream.Event snapshot = events.next(Duration.ofSeconds(10));
                assertThat(snapshot.type()).isEqualTo("snapshot");
                assertThat(snapshot.data().get("status").asText()).isEqualTo("DRAFT");

                assertThat(send("POST", "/projects/" + id + "/generate", null, null).status()).isEqualTo(202);
                List<EventStream.Event> received = new ArrayList<>();
                EventStream.Event event;
                do {
                    event = events.next(Duration.ofSeconds(60));
                    received.add(event);
                } while (!(event.type().equals("status") && event.data().get("status").asText().equals("COMPLETED")));

                List<String> sequence = received.stream()
                        .map(e -> e.type() + ":" + e.data().get("status").asText())
                        .toList();
                assertThat(sequence).containsExactly(
                        "status:PENDING", "status:PROCESSING",
                        "asset:DONE", "asset:DONE", "asset:DONE", "asset:DONE",
                        "asset:DONE", "asset:DONE", "asset:DONE", "asset:DONE",
                        "status:COMPLETED");
                Set<String> assets = new HashSet<>();
                received.stream().filter(e -> e.type().equals("asset")).forEach(e -> {
                    assertThat(e.data().get("project").asText()).isEqualTo(id);
                    assets.add(e.data().get("asset").asText());
                });
                assertThat(assets).as("each asset once").hasSize(8);
            }
        }

        @Test
        void events_unknownProject_is404() throws Exception {
            assertThat(send("GET", "/projects/" + UUID.randomUUID() + "/events", null, null).status()).isEqualTo(404);
        }
    }

    @Nested
    class Static {

        @Test
        void page_isServed() throws Exception {
            Response response = send("GET", "/", null, null);

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.raw().headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(new String(response.raw().body(), StandardCharsets.UTF_8)).contains("Generate Complete Pack");
        }

        @Test
        void samples_areListedAndServed() throws Exception {
            JsonNode samples = send("GET", "/samples", null, null).json();

            assertThat(samples).hasSize(SampleImages.SAMPLES.size());
            Response first = send("GET", samples.get(0).get("url").asText(), null, null);
            assertThat(ImageIO.read(new ByteArrayInputStream(first.raw().body())).getWidth())
                    .isEqualTo(SampleImages.SAMPLES.get(0).width());
            assertThat(send("GET", "/samples/99", null, null).status()).isEqualTo(404);
        }

        @Test
        void unknownPath_is404_andWrongMethod_is405WithAllow() throws Exception {
            assertThat(send("GET", "/nowhere", null, null).status()).isEqualTo(404);

            Response response = send("DELETE", "/projects", null, null);

            assertThat(response.status()).isEqualTo(405);
            assertThat(response.raw().headers().firstValue("Allow")).hasValue("POST");
            assertThat(send("GET", "/assets/" + UUID.randomUUID(), null, null).status()).isEqualTo(404);
        }
    }

}
