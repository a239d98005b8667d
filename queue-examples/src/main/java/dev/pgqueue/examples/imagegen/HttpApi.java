package dev.pgqueue.examples.imagegen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's HTTP API, on the JDK's built-in server ({@code com.sun.net.httpserver}):
 *
 * <pre>
 * GET  /                          the page (index.html)
 * GET  /samples                   the sample images the page offers: [{fileName, url}]
 * GET  /samples/{n}               sample image n (1-based)
 * POST /projects                  {"name": "…", "userId": "…" (optional)} → 201 the project
 * GET  /projects/{id}             the project: status, images, assets, progress
 * POST /projects/{id}/images      the raw image bytes (?name=file.png) → 201 the image; at most 10 MiB
 * POST /projects/{id}/generate    "Generate Complete Pack" → 202 {"jobId": "…"}
 * GET  /projects/{id}/events      Server-Sent Events: a snapshot, then status and asset changes live
 * GET  /images/{id}               a source image
 * GET  /assets/{id}               a generated asset
 * </pre>
 *
 * Errors are JSON {@code {"error": "…"}} with 400 (bad input), 404 (unknown project, image or
 * path), 405, 409 (wrong project state), 413 (upload over the limit) or 500.
 */
final class HttpApi implements HttpHandler {

    /** The largest upload accepted. */
    static final int MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
    /** The default owner of projects created without one, as the seed's user_id. */
    static final UUID DEMO_USER = UUID.fromString("00000000-0000-4000-8000-000000000001");

    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    private static final long KEEP_ALIVE_SECONDS = 15;
    /** An oversized upload is read and discarded up to this much, so that its client sees the 413. */
    private static final long MAX_DISCARD_BYTES = 64L * 1024 * 1024;

    private final Projects projects;
    private final ProjectEvents events;
    private final ObjectMapper json = new ObjectMapper();
    private final List<Route> routes = List.of(
            new Route("GET", "/", this::page),
            new Route("GET", "/samples", this::samples),
            new Route("GET", "/samples/{n}", this::sample),
            new Route("POST", "/projects", this::create),
            new Route("GET", "/projects/{id}", this::project),
            new Route("POST", "/projects/{id}/images", this::upload),
            new Route("POST", "/projects/{id}/generate", this::generate),
            new Route("GET", "/projects/{id}/events", this::events),
            new Route("GET", "/images/{id}", this::sourceImage),
            new Route("GET", "/assets/{id}", this::asset));
    private final Map<Integer, byte[]> sampleBytes = new ConcurrentHashMap<>();

    HttpApi(Projects projects, ProjectEvents events) {
        this.projects = projects;
        this.events = events;
    }

    // ---- routes ----------------------------------------------------------------------------------

    private void page(HttpExchange exchange, List<String> params) throws IOException {
        try (InputStream page = HttpApi.class.getResourceAsStream("index.html")) {
            send(exchange, 200, "text/html; charset=utf-8", page.readAllBytes());
        }
    }

    private record SampleRef(String fileName, String url) {}

    private void samples(HttpExchange exchange, List<String> params) throws IOException {
        List<SampleRef> refs = new ArrayList<>();
        for (int n = 1; n <= SampleImages.SAMPLES.size(); n++) {
            refs.add(new SampleRef(SampleImages.SAMPLES.get(n - 1).fileName(), "/samples/" + n));
        }
        sendJson(exchange, 200, refs);
    }

    private void sample(HttpExchange exchange, List<String> params) throws IOException {
        int n = parseInt(params.get(0));
        if (n < 1 || n > SampleImages.SAMPLES.size()) {
            sendError(exchange, 404, "no sample " + params.get(0) + "; there are " + SampleImages.SAMPLES.size());
            return;
        }
        SampleImages.Sample sample = SampleImages.SAMPLES.get(n - 1);
        send(exchange, 200, "image/" + sample.format(), sampleBytes.computeIfAbsent(n, i -> SampleImages.bytes(sample)));
    }

    private record CreateProject(String name, UUID userId) {}

    private void create(HttpExchange exchange, List<String> params) throws IOException {
        CreateProject request = json.readValue(readBody(exchange, 64 * 1024), CreateProject.class);
        if (request == null) {
            throw new ProjectException(ProjectException.Kind.INVALID, "expected a JSON object with a name");
        }
        ProjectView project = projects.create(request.name(), request.userId() != null ? request.userId() : DEMO_USER);
        exchange.getResponseHeaders().set("Location", "/projects/" + project.id());
        sendJson(exchange, 201, project);
    }

    private void project(HttpExchange exchange, List<String> params) throws IOException {
        UUID id = projectId(params.get(0));
        sendJson(exchange, 200, projects.find(id).orElseThrow(() -> ProjectException.notFound(id)));
    }

    private void upload(HttpExchange exchange, List<String> params) throws IOException {
        UUID id = projectId(params.get(0));
        byte[] bytes = readBody(exchange, MAX_UPLOAD_BYTES);
        String name = queryParameter(exchange, "name").orElse(null);
        sendJson(exchange, 201, projects.addImage(id, name, bytes));
    }

    private record Generated(UUID jobId) {}

    private void generate(HttpExchange exchange, List<String> params) throws IOException {
        sendJson(exchange, 202, new Generated(projects.requestPack(projectId(params.get(0)))));
    }

    /**
     * Server-Sent Events for one project: first a {@code snapshot} (the project as GET returns it),
     * then each {@code status} and {@code asset} change as PostgreSQL announces it, in commit order.
     * Subscribing before reading the snapshot means nothing falls between the two; a comment line
     * every 15 s keeps proxies from closing the stream and finds clients that left.
     */
    private void events(HttpExchange exchange, List<String> params) throws IOException {
        UUID id = projectId(params.get(0));
        BlockingQueue<ProjectEvents.Event> inbox = new LinkedBlockingQueue<>();
        ProjectEvents.Subscription subscription = events.subscribe(id, inbox::add);
        try {
            ProjectView snapshot = projects.find(id).orElseThrow(() -> ProjectException.notFound(id));
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-cache");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            writeEvent(out, "snapshot", json.writeValueAsString(snapshot));
            while (true) {
                ProjectEvents.Event event = inbox.poll(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                if (event == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } else if (event == ProjectEvents.CLOSED) {
                    return;
                } else if (event == ProjectEvents.RESYNC) {
                    Optional<ProjectView> now = projects.find(id);
                    if (now.isPresent()) {
                        writeEvent(out, "snapshot", json.writeValueAsString(now.get()));
                    }
                } else {
                    writeEvent(out, event.type(), event.json());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            subscription.close();
        }
    }

    private void sourceImage(HttpExchange exchange, List<String> params) throws IOException {
        sendImage(exchange, parseUuid(params.get(0)).flatMap(projects::sourceImage), "image " + params.get(0));
    }

    private void asset(HttpExchange exchange, List<String> params) throws IOException {
        sendImage(exchange, parseUuid(params.get(0)).flatMap(projects::asset), "finished asset " + params.get(0));
    }

    // ---- plumbing --------------------------------------------------------------------------------

    @Override
    public void handle(HttpExchange exchange) {
        try {
            route(exchange);
        } catch (ProjectException e) {
            sendErrorQuietly(exchange, switch (e.kind()) {
                case NOT_FOUND -> 404;
                case CONFLICT -> 409;
                case INVALID -> 400;
                case TOO_LARGE -> 413;
            }, e.getMessage());
        } catch (JsonProcessingException e) {
            sendErrorQuietly(exchange, 400, "invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            log.debug("{} {}: the client went away: {}", exchange.getRequestMethod(), exchange.getRequestURI(), e.toString());
        } catch (RuntimeException e) {
            log.error("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            sendErrorQuietly(exchange, 500, "internal error: " + e.getClass().getSimpleName());
        } finally {
            exchange.close();
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        List<String> allowed = new ArrayList<>();
        for (Route route : routes) {
            Matcher matcher = route.pattern().matcher(path);
            if (!matcher.matches()) {
                continue;
            }
            if (!route.method().equals(exchange.getRequestMethod())) {
                allowed.add(route.method());
                continue;
            }
            List<String> params = new ArrayList<>();
            for (int group = 1; group <= matcher.groupCount(); group++) {
                params.add(URLDecoder.decode(matcher.group(group), StandardCharsets.UTF_8));
            }
            route.action().run(exchange, params);
            return;
        }
        if (allowed.isEmpty()) {
            sendError(exchange, 404, "no such path: " + path);
        } else {
            exchange.getResponseHeaders().set("Allow", String.join(", ", allowed));
            sendError(exchange, 405, exchange.getRequestMethod() + " is not allowed on " + path + "; use " + String.join(" or ", allowed));
        }
    }

    private interface Action {
        void run(HttpExchange exchange, List<String> params) throws IOException;
    }

    /** A method and a path template whose {@code {name}} segments become the action's parameters. */
    private record Route(String method, Pattern pattern, Action action) {
        Route(String method, String template, Action action) {
            this(method, Pattern.compile(template.replaceAll("\\{\\w+}", "([^/]+)")), action);
        }
    }

    /**
     * Reads the request body, up to {@code limit} bytes. A larger body is read on and discarded (up
     * to a bound) so that the client, which may still be sending, gets to read the 413.
     */
    private static byte[] readBody(HttpExchange exchange, int limit) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes(limit + 1);
            if (body.length <= limit) {
                return body;
            }
            long discarded = body.length;
            byte[] buffer = new byte[64 * 1024];
            for (int n; discarded < MAX_DISCARD_BYTES && (n = in.read(buffer)) >= 0; ) {
                discarded += n;
            }
            exchange.getResponseHeaders().set("Connection", "close");
            throw new ProjectException(ProjectException.Kind.TOO_LARGE, "upload too large: the limit is "
                    + limit / (1024 * 1024) + " MiB (" + limit + " bytes)");
        }
    }

    private static UUID projectId(String raw) {
        return parseUuid(raw).orElseThrow(() -> new ProjectException(ProjectException.Kind.NOT_FOUND, "no project " + raw));
    }

    private static Optional<UUID> parseUuid(String raw) {
        try {
            return Optional.of(UUID.fromString(raw));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static int parseInt(String raw) {
        try {
            return Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Optional<String> queryParameter(HttpExchange exchange, String name) {
        String query = exchange.getRequestURI().getRawQuery();
        if (query == null) {
            return Optional.empty();
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8).equals(name)) {
                return Optional.of(URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return Optional.empty();
    }

    private void sendImage(HttpExchange exchange, Optional<Projects.StoredImage> image, String what) throws IOException {
        if (image.isEmpty()) {
            sendError(exchange, 404, "no " + what);
            return;
        }
        exchange.getResponseHeaders().set("Cache-Control", "max-age=3600");
        send(exchange, 200, "image/" + image.get().format(), image.get().bytes());
    }

    private void sendJson(HttpExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, "application/json", json.writeValueAsBytes(body));
    }

    private void sendError(HttpExchange exchange, int status, String message) throws IOException {
        sendJson(exchange, status, Map.of("error", message));
    }

    private void sendErrorQuietly(HttpExchange exchange, int status, String message) {
        try {
            sendError(exchange, status, message);
        } catch (IOException | UncheckedIOException e) {
            log.debug("could not send {} to a client that went away", status);
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static void writeEvent(OutputStream out, String type, String data) throws IOException {
        out.write(("event: " + type + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
