package dev.pgqueue.examples.imagegen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * POST /projects                  {"name": "…"} (application/json) → 201 the project, owned by DEMO_USER
 * GET  /projects/{id}             the project: status, images, assets, progress
 * POST /projects/{id}/images      the raw image bytes (?name=file.png; application/octet-stream or image/*)
 *                                 → 201 the image; at most 10 MiB
 * POST /projects/{id}/generate    "Generate Complete Pack" (application/json; the body is ignored) → 202 {"jobId": "…"}
 * GET  /projects/{id}/events      Server-Sent Events: a snapshot, then status and asset changes live
 * GET  /images/{id}               a source image
 * GET  /assets/{id}               a generated asset
 * </pre>
 *
 * Errors are JSON {@code {"error": "…"}} with 400 (bad input), 403 (a foreign {@code Origin}), 404
 * (unknown project, image or path), 405, 409 (wrong project state), 413 (upload over the limit), 415
 * (a write without its content type), 421 (a foreign {@code Host}), 429 or 503 (too many event
 * streams) or 500.
 *
 * <p>Who may call it. The service has no login: it is meant for the machine it runs on, and binds
 * to 127.0.0.1 unless told otherwise. A web page from elsewhere that the user has open must not use
 * it through the browser, so every request must name this server in {@code Host} (a page on a
 * rebound DNS name names its own; 421), a request from a page carries an {@code Origin} that must be
 * this server's own (403), and a write must have a content type that a page cannot send across
 * origins without the browser asking first (CORS preflight, which this server never allows): JSON
 * for {@code /projects} and {@code /generate}, image bytes for uploads (415). The client does not
 * pick who owns a project: every project belongs to {@link #DEMO_USER}, the demo's one user; a real
 * service would take the user from its authentication.
 *
 * <p>Event streams hold a thread each for as long as they are open, so there are at most
 * {@value #MAX_EVENT_STREAMS} at once, {@value #MAX_EVENT_STREAMS_PER_CLIENT} per client address
 * (beyond: 503, 429). A comment line every {@value #HEARTBEAT_SECONDS} s finds a client that left:
 * writing to a closed connection fails, and its thread and subscription are freed.
 */
final class HttpApi implements HttpHandler {

    /** The largest upload accepted. */
    static final int MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
    /** The owner of every project made through the API, as the seed's user_id: the demo has one user. */
    static final UUID DEMO_USER = UUID.fromString("00000000-0000-4000-8000-000000000001");
    /** Event streams open at once, over all clients. */
    static final int MAX_EVENT_STREAMS = 32;
    /** Event streams open at once from one client address. */
    static final int MAX_EVENT_STREAMS_PER_CLIENT = 8;
    /** Threads for requests other than event streams, which always have these. */
    static final int REQUEST_THREADS = 8;
    /** The most threads the server's executor may run: every event stream and {@link #REQUEST_THREADS}. */
    static final int MAX_THREADS = MAX_EVENT_STREAMS + REQUEST_THREADS;
    /** Seconds between the comment lines that keep an idle event stream open and find clients that left. */
    static final int HEARTBEAT_SECONDS = 2;

    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    private static final String JSON = "application/json";
    private static final List<String> IMAGE_BYTES = List.of("application/octet-stream", "image/*");
    /** An oversized upload is read and discarded up to this much, so that its client sees the 413. */
    private static final long MAX_DISCARD_BYTES = 64L * 1024 * 1024;

    private final Projects projects;
    private final ProjectEvents events;
    private final Set<String> hostNames;
    private final int port;
    private final EventStreams streams = new EventStreams();
    private final ObjectMapper json = new ObjectMapper();
    private final List<Route> routes = List.of(
            new Route("GET", "/", this::page),
            new Route("GET", "/samples", this::samples),
            new Route("GET", "/samples/{n}", this::sample),
            new Route("POST", "/projects", List.of(JSON), this::create),
            new Route("GET", "/projects/{id}", this::project),
            new Route("POST", "/projects/{id}/images", IMAGE_BYTES, this::upload),
            new Route("POST", "/projects/{id}/generate", List.of(JSON), this::generate),
            new Route("GET", "/projects/{id}/events", this::events),
            new Route("GET", "/images/{id}", this::sourceImage),
            new Route("GET", "/assets/{id}", this::asset));
    private final Map<Integer, byte[]> sampleBytes = new ConcurrentHashMap<>();

    /**
     * @param bound the address the server listens on: requests must name it (or, when it is a
     *              loopback or wildcard address, {@code localhost}) in {@code Host}
     */
    HttpApi(Projects projects, ProjectEvents events, InetSocketAddress bound) {
        this.projects = projects;
        this.events = events;
        this.hostNames = hostNames(bound.getAddress());
        this.port = bound.getPort();
    }

    /**
     * This API's admission (the {@code Host} and {@code Origin} checks) as a filter, for what else the
     * demo serves on the same server: the dashboard.
     */
    Filter admission() {
        return new Filter() {
            @Override
            public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
                if (admitted(exchange)) {
                    chain.doFilter(exchange);
                } else {
                    exchange.close();
                }
            }

            @Override
            public String description() {
                return "the demo's Host and Origin checks";
            }
        };
    }

    /** Event streams open now. */
    int openEventStreams() {
        return streams.open();
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

    private void create(HttpExchange exchange, List<String> params) throws IOException {
        JsonNode request = json.readTree(readBody(exchange, 64 * 1024));
        if (request == null || !request.isObject()) {
            throw new ProjectException(ProjectException.Kind.INVALID, "expected a JSON object with a name");
        }
        for (Iterator<String> fields = request.fieldNames(); fields.hasNext(); ) {
            String field = fields.next();
            if (!field.equals("name")) {
                throw new ProjectException(ProjectException.Kind.INVALID, "unexpected field " + json.writeValueAsString(cut(field, 40))
                        + ": a project has a name only; its owner is the demo's user, not chosen by the client");
            }
        }
        JsonNode name = request.get("name");
        if (name != null && !name.isTextual()) {
            throw new ProjectException(ProjectException.Kind.INVALID, "expected name to be a string, got: " + name.getNodeType());
        }
        ProjectView project = projects.create(name == null ? null : name.textValue(), DEMO_USER);
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
        readBody(exchange, 64 * 1024); // ignored: the JSON content type is what a page elsewhere cannot send unasked
        sendJson(exchange, 202, new Generated(projects.requestPack(projectId(params.get(0)))));
    }

    /**
     * Server-Sent Events for one project: first a {@code snapshot} (the project as GET returns it),
     * then each {@code status} and {@code asset} change as PostgreSQL announces it, in commit order.
     * Subscribing before reading the snapshot means nothing falls between the two; a comment line
     * every {@value #HEARTBEAT_SECONDS} s keeps proxies from closing the stream and finds clients
     * that left (the write fails). Beyond the limits on open streams, 503 or 429 at once.
     */
    private void events(HttpExchange exchange, List<String> params) throws IOException {
        UUID id = projectId(params.get(0));
        InetAddress client = exchange.getRemoteAddress().getAddress();
        Optional<String> refused = streams.open(client);
        if (refused.isPresent()) {
            exchange.getResponseHeaders().set("Retry-After", "10");
            sendError(exchange, refused.get().startsWith("this client") ? 429 : 503, refused.get());
            return;
        }
        try {
            stream(exchange, id);
        } finally {
            streams.close(client);
        }
    }

    private void stream(HttpExchange exchange, UUID id) throws IOException {
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
                ProjectEvents.Event event = inbox.poll(HEARTBEAT_SECONDS, TimeUnit.SECONDS);
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

    /**
     * Event streams open, in all and per client address; a new one beyond either limit is refused.
     * Thread-safe.
     */
    private static final class EventStreams {
        private final Map<InetAddress, Integer> byClient = new HashMap<>(); // guarded by this
        private int open; // guarded by this

        /** Counts a new stream from {@code client}, or says why not. */
        synchronized Optional<String> open(InetAddress client) {
            if (byClient.getOrDefault(client, 0) >= MAX_EVENT_STREAMS_PER_CLIENT) {
                return Optional.of("this client has " + MAX_EVENT_STREAMS_PER_CLIENT
                        + " event streams open, the most one client may; close one first");
            }
            if (open >= MAX_EVENT_STREAMS) {
                return Optional.of("the server has " + MAX_EVENT_STREAMS + " event streams open, the most it serves; try again later");
            }
            byClient.merge(client, 1, Integer::sum);
            open++;
            return Optional.empty();
        }

        synchronized void close(InetAddress client) {
            byClient.computeIfPresent(client, (address, n) -> n == 1 ? null : n - 1);
            open--;
        }

        synchronized int open() {
            return open;
        }
    }

    @Override
    public void handle(HttpExchange exchange) {
        try {
            if (admitted(exchange)) {
                route(exchange);
            }
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
            log.debug("{} {}: the client went away: {}", exchange.getRequestMethod(),
                    forLog(exchange.getRequestURI().getRawPath(), 200), forLog(e.toString(), 300));
        } catch (RuntimeException e) {
            // Exception messages may carry what the client sent (the SQL driver's, the server's):
            // escaped and cut, as is the path. Bound arguments are not in them (ImageGenApp's Jdbi).
            log.error("{} {} failed: {}", exchange.getRequestMethod(), forLog(exchange.getRequestURI().getRawPath(), 200), describe(e));
            sendErrorQuietly(exchange, 500, "internal error: " + e.getClass().getSimpleName());
        } finally {
            exchange.close();
        }
    }

    /**
     * Whether the request names this server in {@code Host} (else 421: a page on a rebound DNS name)
     * and, if it comes from a page, that page is this server's own ({@code Origin}, else 403).
     */
    private boolean admitted(HttpExchange exchange) throws IOException {
        String host = exchange.getRequestHeaders().getFirst("Host");
        if (host == null || !isThisServer(host)) {
            exchange.getResponseHeaders().set("Connection", "close"); // its body, if any, is not read
            sendError(exchange, 421, "this server does not serve the host " + (host == null ? "(none)" : json.writeValueAsString(cut(host, 100))));
            return false;
        }
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        if (origin != null && !origin.equalsIgnoreCase("http://" + host)) {
            exchange.getResponseHeaders().set("Connection", "close");
            sendError(exchange, 403, "requests from pages of another origin are refused: " + json.writeValueAsString(cut(origin, 100)));
            return false;
        }
        return true;
    }

    /** {@code host[:port]}, with this server's port (80 when none is given) and one of its names. */
    private boolean isThisServer(String hostHeader) {
        String host = hostHeader.toLowerCase(Locale.ROOT);
        int requestPort = 80;
        int colon = host.lastIndexOf(':');
        if (colon >= 0 && colon > host.lastIndexOf(']')) {
            try {
                requestPort = Integer.parseInt(host.substring(colon + 1));
            } catch (NumberFormatException e) {
                return false;
            }
            host = host.substring(0, colon);
        }
        return requestPort == port && hostNames.contains(host);
    }

    /**
     * The names a request may give in {@code Host}: the bound address; for a loopback address also
     * {@code localhost}; for the wildcard address every address of this machine and its host name.
     */
    static Set<String> hostNames(InetAddress bound) {
        Set<String> names = new HashSet<>();
        names.add(hostLiteral(bound));
        if (bound.isLoopbackAddress() || bound.isAnyLocalAddress()) {
            names.addAll(List.of("localhost", "127.0.0.1", "[::1]"));
        }
        if (bound.isAnyLocalAddress()) {
            try {
                names.add(InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT));
                for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    Collections.list(network.getInetAddresses()).forEach(address -> names.add(hostLiteral(address)));
                }
            } catch (IOException e) {
                log.warn("could not list this machine's addresses; requests must name localhost: {}", e.toString());
            }
        }
        return Set.copyOf(names);
    }

    private static String hostLiteral(InetAddress address) {
        String literal = address.getHostAddress().replaceFirst("%.*$", ""); // no IPv6 scope
        return (address instanceof Inet6Address ? "[" + literal + "]" : literal).toLowerCase(Locale.ROOT);
    }

    /** Whether the request's content type is one of {@code accepted} ({@code type/*} matches its subtypes). */
    private static boolean hasContentType(HttpExchange exchange, List<String> accepted) {
        String header = exchange.getRequestHeaders().getFirst("Content-Type");
        if (header == null) {
            return false;
        }
        String type = header.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return accepted.stream().anyMatch(a -> a.endsWith("/*") ? type.startsWith(a.substring(0, a.length() - 1)) : type.equals(a));
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
            if (!route.contentTypes().isEmpty() && !hasContentType(exchange, route.contentTypes())) {
                String given = exchange.getRequestHeaders().getFirst("Content-Type");
                exchange.getResponseHeaders().set("Connection", "close");
                sendError(exchange, 415, "expected Content-Type " + String.join(" or ", route.contentTypes()) + ", got: "
                        + (given == null ? "none" : json.writeValueAsString(cut(given, 100))));
                return;
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

    /**
     * A method and a path template whose {@code {name}} segments become the action's parameters; a
     * write names the content types it accepts.
     */
    private record Route(String method, Pattern pattern, List<String> contentTypes, Action action) {
        Route(String method, String template, List<String> contentTypes, Action action) {
            this(method, Pattern.compile(template.replaceAll("\\{\\w+}", "([^/]+)")), contentTypes, action);
        }

        Route(String method, String template, Action action) {
            this(method, template, List.of(), action);
        }
    }

    /** {@code text} cut to {@code max} characters. */
    private static String cut(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "…";
    }

    /**
     * {@code text} for a log line: control characters and non-ASCII written as Java escapes them
     * (a newline as backslash-n, NUL as backslash-u0000), so that it stays one line and shows what was
     * sent; cut to {@code max}.
     */
    static String forLog(String text, int max) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        for (; i < text.length() && out.length() < max; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append("\\\\");
                default -> out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format(Locale.ROOT, "\\u%04x", (int) c));
            }
        }
        return i == text.length() ? out.toString() : out + "… (" + text.length() + " characters)";
    }

    /** An exception and its causes, one line: each type and its message, as {@link #forLog}. */
    static String describe(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null && out.length() < 2000; t = t.getCause() == t ? null : t.getCause()) {
            if (t != e) {
                out.append("; caused by ");
            }
            out.append(t.getClass().getName());
            if (t.getMessage() != null) {
                out.append(": ").append(forLog(t.getMessage(), 300));
            }
        }
        return out.toString();
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
