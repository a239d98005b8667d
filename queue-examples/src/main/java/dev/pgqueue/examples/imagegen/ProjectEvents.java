package dev.pgqueue.examples.imagegen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "Realtime" step: relays the NOTIFYs that schema.sql's triggers send on
 * {@code imagegen_<schema>} to subscribers in this process, by project.
 *
 * <p>One connection of its own (outside the pool, so that no pooled connection is left listening)
 * LISTENs on a daemon thread. PostgreSQL delivers notifications at commit, in commit order, so a
 * subscriber sees a project's changes in the order they happened. When the connection fails, the
 * thread reconnects with backoff and sends every subscriber {@link #RESYNC}: whatever was notified
 * while nobody listened is lost, so subscribers re-read what they show. Thread-safe.
 *
 * <p>A notification is only a hint. Any role that can connect may {@code NOTIFY} on the channel
 * with any text, so nothing of its text is relayed: it names a status change (its
 * {@code project_status_changes} id) or an asset, and the event sent on is read from those tables.
 * A status change is relayed only if it is newer than the last one the subscriber saw (or than the
 * latest when it subscribed), an asset's status only when it differs from the one last relayed; so
 * a forged notification can at most make a subscriber re-read something true, never show a status
 * that was not written, nor replay an old one.
 */
final class ProjectEvents implements AutoCloseable {

    /**
     * One change, as read from the tables: {@code type} is {@code status} or {@code asset}; {@code json}
     * is the event's data ({@code {"type", "project", "change", "status", "reason"}} or
     * {@code {"type", "project", "asset", "image", "variant", "status"}}).
     */
    record Event(String type, String json) {}

    /** The subscriber may have missed events: re-read the project. */
    static final Event RESYNC = new Event("resync", "{}");
    /** No more events will come: the service is stopping. */
    static final Event CLOSED = new Event("closed", "{}");

    private static final Logger log = LoggerFactory.getLogger(ProjectEvents.class);
    private static final int WAIT_MILLIS = 250;
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final String jdbcUrl;
    private final Jdbi jdbi;
    private final String channel;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<UUID, Set<Subscriber>> subscribers = new ConcurrentHashMap<>();
    private final CountDownLatch firstListen = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;
    private long lastIgnoredWarning; // System.nanoTime(); the listening thread's only

    private ProjectEvents(String jdbcUrl, Jdbi jdbi, String schema) {
        this.jdbcUrl = jdbcUrl;
        this.jdbi = jdbi;
        this.channel = "imagegen_" + schema;
        this.thread = new Thread(this::listenUntilClosed, "imagegen-events-" + schema);
        this.thread.setDaemon(true);
    }

    /**
     * Starts listening, and returns once the first LISTEN is in place, so that a subscriber that
     * reads a project after subscribing misses nothing.
     *
     * @param jdbi the service's pool, on {@code schema}: where notifications are checked
     * @throws IllegalStateException if no LISTEN succeeded within {@code timeout}
     */
    static ProjectEvents start(String jdbcUrl, Jdbi jdbi, String schema, Duration timeout) throws InterruptedException {
        ProjectEvents events = new ProjectEvents(jdbcUrl, jdbi, schema);
        events.thread.start();
        if (!events.firstListen.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            events.close();
            throw new IllegalStateException("could not LISTEN on " + events.channel + " within " + timeout);
        }
        return events;
    }

    /**
     * Calls {@code consumer} with each event of {@code projectId} until the returned handle is closed:
     * each status change written after this call, and each asset status change.
     */
    Subscription subscribe(UUID projectId, Consumer<Event> consumer) {
        long latestChange = jdbi.withHandle(handle -> handle.createQuery(
                        "SELECT coalesce(max(id), 0) FROM project_status_changes WHERE project_id = :project")
                .bind("project", projectId)
                .mapTo(Long.class)
                .one());
        Subscriber subscriber = new Subscriber(consumer, latestChange);
        subscribers.computeIfAbsent(projectId, id -> ConcurrentHashMap.newKeySet()).add(subscriber);
        return () -> subscribers.computeIfPresent(projectId, (id, set) -> {
            set.remove(subscriber);
            return set.isEmpty() ? null : set;
        });
    }

    /** How many subscriptions are open, over all projects. */
    int subscriptions() {
        return subscribers.values().stream().mapToInt(Set::size).sum();
    }

    /**
     * One subscription, and what it has been sent. Its fields are touched by the listening thread
     * only (after a safe publication through the subscribers' map).
     */
    private static final class Subscriber {
        final Consumer<Event> consumer;
        long lastChange;
        final Map<UUID, String> assetStatus = new HashMap<>();

        Subscriber(Consumer<Event> consumer, long lastChange) {
            this.consumer = consumer;
            this.lastChange = lastChange;
        }
    }

    /** Stops a subscription. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    /** Stops listening and sends every subscriber {@link #CLOSED}. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(5).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        broadcast(CLOSED);
    }

    private void listenUntilClosed() {
        long backoffMillis = 100;
        while (running) {
            try (Connection connection = DriverManager.getConnection(jdbcUrl);
                 Statement statement = connection.createStatement()) {
                statement.execute("LISTEN " + channel);
                firstListen.countDown();
                broadcast(RESYNC);
                backoffMillis = 100;
                PGConnection pg = connection.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notifications = pg.getNotifications(WAIT_MILLIS);
                    for (PGNotification notification : notifications == null ? new PGNotification[0] : notifications) {
                        dispatch(notification.getParameter());
                    }
                }
            } catch (SQLException e) {
                if (!running) {
                    return;
                }
                log.warn("LISTEN {} failed; reconnecting in {} ms: {}", channel, backoffMillis, e.getMessage());
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF.toMillis());
            }
        }
    }

    /** Relays the change that a notification names, as the tables show it; ignores anything else. */
    private void dispatch(String payload) {
        UUID projectId;
        String type;
        JsonNode node;
        try {
            node = json.readTree(payload);
            projectId = UUID.fromString(node.path("project").asText());
            type = node.path("type").asText();
        } catch (Exception e) {
            ignored("ignoring a notification on {} that is not an event ({} characters)", channel, payload.length());
            return;
        }
        Set<Subscriber> listening = subscribers.getOrDefault(projectId, Set.of());
        if (listening.isEmpty()) {
            return;
        }
        try {
            switch (type) {
                case "status" -> relayStatus(projectId, node.path("change").asLong(-1), listening);
                case "asset" -> relayAsset(projectId, node.path("asset").asText(), listening);
                default -> ignored("ignoring a notification on {} of an unknown type ({} characters)", channel, payload.length());
            }
        } catch (RuntimeException e) {
            // The pool or the database failed: what was missed is re-read by subscribers.
            log.warn("could not check a notification on {} against the tables: {}", channel, e.getClass().getSimpleName());
            listening.forEach(subscriber -> subscriber.consumer.accept(RESYNC));
        }
    }

    /**
     * Logs a notification that was ignored: at most one warning a minute (any role can send them,
     * as many as it likes), the rest at debug. Never its text.
     */
    private void ignored(String format, Object... args) {
        long now = System.nanoTime();
        if (lastIgnoredWarning == 0 || now - lastIgnoredWarning > Duration.ofMinutes(1).toNanos()) {
            lastIgnoredWarning = now;
            log.warn(format + " (further ones within a minute are logged at debug)", args);
        } else {
            log.debug(format, args);
        }
    }

    private record StatusChange(long change, String status, String reason) {}

    private void relayStatus(UUID projectId, long changeId, Set<Subscriber> listening) {
        Optional<StatusChange> change = jdbi.withHandle(handle -> handle.createQuery("""
                        SELECT c.id, c.to_status, left(p.failure_reason, 1000) AS reason
                          FROM project_status_changes c JOIN projects p ON p.id = c.project_id
                         WHERE c.id = :change AND c.project_id = :project""")
                .bind("change", changeId)
                .bind("project", projectId)
                .map((row, ctx) -> new StatusChange(row.getLong("id"), row.getString("to_status"), row.getString("reason")))
                .findOne());
        if (change.isEmpty()) {
            ignored("ignoring a status notification on {} that names no status change of its project", channel);
            return;
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("type", "status");
        data.put("project", projectId);
        data.put("change", change.get().change());
        data.put("status", change.get().status());
        data.put("reason", change.get().reason());
        Event event = new Event("status", toJson(data));
        for (Subscriber subscriber : listening) {
            if (change.get().change() > subscriber.lastChange) {
                subscriber.lastChange = change.get().change();
                subscriber.consumer.accept(event);
            }
        }
    }

    private void relayAsset(UUID projectId, String rawAssetId, Set<Subscriber> listening) {
        UUID assetId;
        try {
            assetId = UUID.fromString(rawAssetId);
        } catch (IllegalArgumentException e) {
            ignored("ignoring an asset notification on {} without an asset id", channel);
            return;
        }
        Optional<Map<String, Object>> asset = jdbi.withHandle(handle -> handle.createQuery("""
                        SELECT source_image_id, variant, status FROM assets WHERE id = :asset AND project_id = :project""")
                .bind("asset", assetId)
                .bind("project", projectId)
                .map((row, ctx) -> {
                    Map<String, Object> data = new LinkedHashMap<>();
                    data.put("type", "asset");
                    data.put("project", projectId);
                    data.put("asset", assetId);
                    data.put("image", row.getObject("source_image_id", UUID.class));
                    data.put("variant", row.getString("variant"));
                    data.put("status", row.getString("status"));
                    return data;
                })
                .findOne());
        if (asset.isEmpty()) {
            ignored("ignoring an asset notification on {} that names no asset of its project", channel);
            return;
        }
        String status = (String) asset.get().get("status");
        Event event = new Event("asset", toJson(asset.get()));
        for (Subscriber subscriber : listening) {
            if (!status.equals(subscriber.assetStatus.put(assetId, status))) {
                subscriber.consumer.accept(event);
            }
        }
    }

    private String toJson(Map<String, Object> data) {
        try {
            return json.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write an event as JSON", e);
        }
    }

    private void broadcast(Event event) {
        subscribers.values().forEach(set -> set.forEach(subscriber -> subscriber.consumer.accept(event)));
    }
}
