package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.PostgresServer;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
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

    /** "Generate Complete Pack", as the page sends it. */
    private static Response generate(String projectId) throws Exception {
        return send("POST", "/projects/" + projectId + "/generate", "{}".getBytes(StandardCharsets.UTF_8), "application/json");
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
            Response response = send("POST", "/projects", "name=x".getBytes(StandardCharsets.UTF_8), "application/json");

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText()).startsWith("invalid JSON: ");
        }

        @Test
        void create_nameWithNul_is400SayingWhere_andLogsNothingOfIt() throws Exception {
            String marker = "nul-" + UUID.randomUUID();
            String log = capturingStandardError(() -> {
                Response response = createProject("evil\\u0000" + marker);

                assertThat(response.status()).isEqualTo(400);
                assertThat(response.json().get("error").asText())
                        .isEqualTo("expected name to have no control characters or unpaired surrogates, got U+0000 at position 5");
            });

            assertThat(log).doesNotContain(marker);
            assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE name LIKE '%' || ?", marker)).isZero();
        }

        @Test
        void create_nameWithNewlineOrUnpairedSurrogate_is400() throws Exception {
            assertThat(createProject("two\\nlines").status()).isEqualTo(400);
            assertThat(createProject("half \\ud83d pair").json().get("error").asText())
                    .isEqualTo("expected name to have no control characters or unpaired surrogates, got U+D83D at position 6");
            assertThat(createProject("whole \\ud83d\\ude00 pair").status()).isEqualTo(201);
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
        void upload_fileNameWithNul_is400() throws Exception {
            Response response = upload(newProject(), "a%00b.png", Fixtures.image(8, 8, "png", 10));

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText())
                    .isEqualTo("expected the file name to have no control characters or unpaired surrogates, got U+0000 at position 2");
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
            generate(id);

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

            Response response = generate(id);

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
            generate(id);

            Response response = generate(id);

            assertThat(response.status()).isEqualTo(409);
            assertThat(response.json().get("error").asText()).contains("its pack was requested already");
        }

        @Test
        void generate_withoutImages_is400() throws Exception {
            Response response = generate(newProject());

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText()).endsWith("has no images: add some before generating");
        }

        @Test
        void generate_unknownProject_is404() throws Exception {
            assertThat(generate(UUID.randomUUID().toString()).status()).isEqualTo(404);
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

                assertThat(generate(id).status()).isEqualTo(202);
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

    @Nested
    class Access {

        @Test
        void server_listensOnLoopbackOnlyByDefault() throws Exception {
            int port = base.getPort();
            List<InetAddress> elsewhere = new ArrayList<>();
            for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                Collections.list(network.getInetAddresses()).stream()
                        .filter(address -> address instanceof Inet4Address && !address.isLoopbackAddress())
                        .forEach(elsewhere::add);
            }
            Assumptions.assumeFalse(elsewhere.isEmpty(), "this machine has no address but loopback");

            for (InetAddress address : elsewhere) {
                assertThatThrownBy(() -> new Socket(address, port).close())
                        .as("connecting to %s:%d", address, port).isInstanceOf(ConnectException.class);
            }
            assertThat(send("GET", "/samples", null, null).status()).isEqualTo(200);
        }

        @Test
        void create_crossOriginTextPlain_is415AndCreatesNothing() throws Exception {
            String name = "csrf-" + UUID.randomUUID();
            byte[] body = ("{\"name\": \"" + name + "\"}").getBytes(StandardCharsets.UTF_8);

            Response response = send("POST", "/projects", body, "text/plain");

            assertThat(response.status()).isEqualTo(415);
            assertThat(response.json().get("error").asText()).isEqualTo("expected Content-Type application/json, got: \"text/plain\"");
            assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE name = ?", name)).isZero();
        }

        @Test
        void writesWithoutTheirContentType_are415() throws Exception {
            String id = newProject();
            upload(id, "a.png", Fixtures.image(8, 8, "png", 11));

            assertThat(send("POST", "/projects/" + id + "/generate", null, null).status()).isEqualTo(415);
            assertThat(send("POST", "/projects/" + id + "/generate", new byte[0], "application/x-www-form-urlencoded").status())
                    .isEqualTo(415);
            assertThat(send("POST", "/projects/" + id + "/images?name=b.png", Fixtures.image(8, 8, "png", 12), "text/plain").status())
                    .isEqualTo(415);
            assertThat(send("POST", "/projects/" + id + "/images?name=b.png", Fixtures.image(8, 8, "png", 12), "image/png").status())
                    .isEqualTo(201);
            assertThat(send("GET", "/projects/" + id, null, null).json().get("status").asText()).isEqualTo("DRAFT");
        }

        @Test
        void foreignOrigin_is403_andOwnOriginIsServed() throws Exception {
            String name = "origin-" + UUID.randomUUID();
            byte[] body = ("{\"name\": \"" + name + "\"}").getBytes(StandardCharsets.UTF_8);

            for (String origin : List.of("http://evil.example", "null", "http://localhost:" + (base.getPort() + 1))) {
                Response response = sendWithOrigin("/projects", body, origin);
                assertThat(response.status()).as("Origin %s", origin).isEqualTo(403);
                assertThat(response.json().get("error").asText()).startsWith("requests from pages of another origin are refused");
            }
            assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE name = ?", name)).isZero();

            assertThat(sendWithOrigin("/projects", body, "http://localhost:" + base.getPort()).status()).isEqualTo(201);
        }

        @Test
        void foreignHost_is421() throws Exception {
            String name = "rebound-" + UUID.randomUUID();
            String body = "{\"name\": \"" + name + "\"}";

            RawResponse rebound = raw("127.0.0.1", "POST /projects HTTP/1.1\r\nHost: evil.example:" + base.getPort()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            RawResponse otherPort = raw("127.0.0.1", "GET /samples HTTP/1.1\r\nHost: localhost:1\r\n\r\n");
            RawResponse none = raw("127.0.0.1", "GET /samples HTTP/1.0\r\n\r\n");
            RawResponse own = raw("127.0.0.1", "GET /samples HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort() + "\r\nConnection: close\r\n\r\n");

            assertThat(rebound.status()).isEqualTo(421);
            assertThat(rebound.body()).contains("this server does not serve the host \\\"evil.example:");
            assertThat(otherPort.status()).isEqualTo(421);
            assertThat(none.status()).isEqualTo(421);
            assertThat(own.status()).isEqualTo(200);
            assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE name = ?", name)).isZero();
        }

        @Test
        void dashboard_isServedBesideThePage_behindTheSameHostCheck() throws Exception {
            HttpResponse<String> overview = HTTP.send(HttpRequest.newBuilder(base.resolve("/dashboard/")).build(),
                    BodyHandlers.ofString());
            assertThat(overview.statusCode()).isEqualTo(200);
            assertThat(overview.body()).contains("<title>pgqueue · Overview</title>").contains("actions on");
            assertThat(HTTP.send(HttpRequest.newBuilder(base.resolve("/")).build(), BodyHandlers.ofString()).body())
                    .contains("href=\"dashboard/\"");

            RawResponse rebound = raw("127.0.0.1", "GET /dashboard/ HTTP/1.1\r\nHost: evil.example:" + base.getPort() + "\r\n\r\n");
            assertThat(rebound.status()).isEqualTo(421);
        }

        @Test
        void create_userIdInTheBody_is400AndTheOwnerIsAlwaysTheDemoUser() throws Exception {
            UUID someoneElse = UUID.randomUUID();
            byte[] body = ("{\"name\": \"mine\", \"userId\": \"" + someoneElse + "\"}").getBytes(StandardCharsets.UTF_8);

            Response response = send("POST", "/projects", body, "application/json");

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.json().get("error").asText()).isEqualTo(
                    "unexpected field \"userId\": a project has a name only; its owner is the demo's user, not chosen by the client");
            assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE user_id = ?", someoneElse)).isZero();
            assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE user_id <> ?", HttpApi.DEMO_USER)).isZero();
        }

        @Test
        void forLog_escapesControlCharactersAndCuts() {
            assertThat(HttpApi.forLog("a\nb\u0000c\\d é", 100)).isEqualTo("a\\nb\\u0000c\\\\d \\u00e9");
            assertThat(HttpApi.forLog("x".repeat(500), 10)).isEqualTo("xxxxxxxxxx… (500 characters)");
            assertThat(HttpApi.describe(new IllegalStateException("one\ntwo", new RuntimeException("three\r"))))
                    .isEqualTo("java.lang.IllegalStateException: one\\ntwo; caused by java.lang.RuntimeException: three\\r");
        }
    }

    /** Event streams are bounded in all and per client, and a stream that its client left is freed within seconds. */
    @Nested
    class EventLimits {

        @Test
        void events_beyondTheLimits_areRefused_threadsStayBounded_andClosedStreamsAreFreedQuickly() throws Exception {
            HttpApi api = app.httpApi().orElseThrow();
            await().atMost(Duration.ofSeconds(30)).until(() -> api.openEventStreams() == 0); // other tests' streams
            String id = newProject();
            String request = "GET /projects/" + id + "/events HTTP/1.1\r\nHost: localhost:" + base.getPort() + "\r\n\r\n";
            List<Socket> open = new ArrayList<>();
            try {
                // One client: its limit, then 429.
                for (int i = 0; i < HttpApi.MAX_EVENT_STREAMS_PER_CLIENT; i++) {
                    open.add(openStream("127.0.0.1", request));
                }
                RawResponse perClient = raw("127.0.0.1", request);
                assertThat(perClient.status()).isEqualTo(429);
                assertThat(perClient.body()).contains("this client has " + HttpApi.MAX_EVENT_STREAMS_PER_CLIENT + " event streams open");

                // More clients (other loopback addresses) up to the server's limit, then 503 for anyone.
                int client = 2;
                while (open.size() < HttpApi.MAX_EVENT_STREAMS) {
                    String address = "127.0.0." + client;
                    for (int i = 0; i < HttpApi.MAX_EVENT_STREAMS_PER_CLIENT && open.size() < HttpApi.MAX_EVENT_STREAMS; i++) {
                        open.add(openStream(address, request));
                    }
                    client++;
                }
                RawResponse overall = raw("127.0.0." + client, request);
                assertThat(overall.status()).isEqualTo(503);
                for (int i = 1; i <= 100; i++) { // many more clients: each refused at once, no thread kept
                    assertThat(raw("127.0.1." + i, request).status()).isEqualTo(503);
                }
                assertThat(overall.body()).contains("the server has " + HttpApi.MAX_EVENT_STREAMS + " event streams open");
                assertThat(api.openEventStreams()).isEqualTo(HttpApi.MAX_EVENT_STREAMS);
                assertThat(app.events().subscriptions()).isEqualTo(HttpApi.MAX_EVENT_STREAMS);
                // Ordinary requests still have threads of their own.
                assertThat(send("GET", "/projects/" + id, null, null).status()).isEqualTo(200);
                assertThat(httpThreads()).as("the server's threads with every stream open").isLessThanOrEqualTo(HttpApi.MAX_THREADS);
            } finally {
                for (Socket socket : open) {
                    socket.close();
                }
            }

            long closed = System.nanoTime();
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
                    .until(() -> api.openEventStreams() == 0 && app.events().subscriptions() == 0);
            System.out.printf("event streams freed %.1f s after their clients closed them%n", (System.nanoTime() - closed) / 1e9);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> httpThreads() <= HttpApi.REQUEST_THREADS);
            System.out.printf("server threads back to %d, %.1f s after the clients closed%n", httpThreads(), (System.nanoTime() - closed) / 1e9);
            openStream("127.0.0.1", request).close();
        }

        private static Socket openStream(String from, String request) throws Exception {
            Socket socket = connect(from);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            String statusLine = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertThat(statusLine).as("a stream from %s", from).isEqualTo("HTTP/1.1 200 OK");
            return socket;
        }

        private static long httpThreads() {
            return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("imagegen-http-")).count();
        }
    }

    /** Any role can NOTIFY on the service's channel: only what the tables say reaches the page. */
    @Nested
    class ForgedNotifications {

        @Test
        void events_relayOnlyWhatTheTablesSay_neverAForgedOrReplayedNotification() throws Exception {
            String id = newProject();
            upload(id, "a.png", Fixtures.image(120, 80, "png", 13));
            upload(id, "b.jpg", Fixtures.image(80, 120, "jpeg", 14));
            String other = newProject();
            db.execute("UPDATE projects SET status = status WHERE id = ?::uuid", other);
            long othersChange = db.queryForLong("SELECT max(id) FROM project_status_changes WHERE project_id = ?::uuid", other);
            String channel = "imagegen_" + db.schema();
            String forger = "imagegen_forger_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
            db.execute("CREATE ROLE " + forger + " LOGIN");
            try (EventStream events = EventStream.open(HTTP, base.resolve("/projects/" + id + "/events"));
                 Connection forged = DriverManager.getConnection(
                         PostgresServer.shared().jdbcUrl().replaceFirst("user=[^&]*", "user=" + forger))) {
                assertThat(events.next(Duration.ofSeconds(10)).data().get("status").asText()).isEqualTo("DRAFT");

                notify(forged, channel, "{\"type\": \"status\", \"project\": \"" + id + "\", \"status\": \"COMPLETED\"}");
                notify(forged, channel, "{\"type\": \"status\", \"project\": \"" + id + "\", \"change\": " + othersChange
                        + ", \"status\": \"COMPLETED\"}");
                notify(forged, channel, "{\"type\": \"asset\", \"project\": \"" + id + "\", \"asset\": \"" + UUID.randomUUID()
                        + "\", \"status\": \"DONE\"}");
                notify(forged, channel, "not json\n at all");
                assertThat(generate(id).status()).isEqualTo(202);

                List<String> sequence = new ArrayList<>();
                EventStream.Event event;
                do {
                    event = events.next(Duration.ofSeconds(60));
                    sequence.add(event.type() + ":" + event.data().get("status").asText());
                } while (!(event.type().equals("status") && event.data().get("status").asText().equals("COMPLETED")));
                assertThat(sequence).containsExactly(
                        "status:PENDING", "status:PROCESSING",
                        "asset:DONE", "asset:DONE", "asset:DONE", "asset:DONE",
                        "asset:DONE", "asset:DONE", "asset:DONE", "asset:DONE",
                        "status:COMPLETED");

                // A replay of a true but old change, then a real write: only the real one arrives.
                long pendingChange = db.queryForLong(
                        "SELECT min(id) FROM project_status_changes WHERE project_id = ?::uuid AND to_status = 'PENDING'", id);
                notify(forged, channel, "{\"type\": \"status\", \"project\": \"" + id + "\", \"change\": " + pendingChange + "}");
                db.execute("UPDATE projects SET status = status WHERE id = ?::uuid", id);
                EventStream.Event next = events.next(Duration.ofSeconds(10));
                assertThat(next.type() + ":" + next.data().get("status").asText()).isEqualTo("status:COMPLETED");
                assertThat(next.data().get("change").asLong()).isGreaterThan(pendingChange);
            } finally {
                db.execute("DROP ROLE " + forger);
            }
        }

        private static void notify(Connection connection, String channel, String payload) throws SQLException {
            try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
                statement.setString(1, channel);
                statement.setString(2, payload);
                statement.execute();
            }
        }
    }

    record RawResponse(int status, String body) {}

    /** One request over a socket of its own from {@code from} (a loopback address), read to the end. */
    private static RawResponse raw(String from, String request) throws Exception {
        try (Socket socket = connect(from)) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int status = Integer.parseInt(in.readLine().split(" ")[1]);
            String line;
            int length = 0;
            while (!(line = in.readLine()).isEmpty()) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring("content-length:".length()).strip());
                }
            }
            char[] body = new char[length];
            int read = 0;
            for (int n; read < length && (n = in.read(body, read, length - read)) > 0; ) {
                read += n;
            }
            return new RawResponse(status, new String(body, 0, read));
        }
    }

    private static Socket connect(String from) throws Exception {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", base.getPort()), 5_000);
        socket.setSoTimeout(30_000);
        return socket;
    }

    private static Response sendWithOrigin(String path, byte[] body, String origin) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(base.resolve(path))
                .POST(BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/json")
                .header("Origin", origin)
                .build(), BodyHandlers.ofByteArray());
        return new Response(response.statusCode(), JSON.readTree(response.body()), response);
    }

    /** What {@code action} wrote to System.err (where the service logs), while it ran. */
    private static String capturingStandardError(ThrowingRunnable action) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new TeeOutputStream(original, captured), true, StandardCharsets.UTF_8));
        try {
            action.run();
            Thread.sleep(200); // a log line written by the server's thread right after its response
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static final class TeeOutputStream extends OutputStream {
        private final OutputStream one;
        private final OutputStream two;

        TeeOutputStream(OutputStream one, OutputStream two) {
            this.one = one;
            this.two = two;
        }

        @Override
        public synchronized void write(int b) throws java.io.IOException {
            one.write(b);
            two.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws java.io.IOException {
            one.write(b, off, len);
            two.write(b, off, len);
        }
    }
}
