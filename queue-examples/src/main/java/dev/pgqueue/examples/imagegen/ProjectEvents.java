package dev.pgqueue.examples.imagegen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
 */
final class ProjectEvents implements AutoCloseable {

    /** One notification: {@code type} is {@code status} or {@code asset}; {@code json} is its payload. */
    record Event(String type, String json) {}

    /** The subscriber may have missed events: re-read the project. */
    static final Event RESYNC = new Event("resync", "{}");
    /** No more events will come: the service is stopping. */
    static final Event CLOSED = new Event("closed", "{}");

    private static final Logger log = LoggerFactory.getLogger(ProjectEvents.class);
    private static final int WAIT_MILLIS = 250;
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final String jdbcUrl;
    private final String channel;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<UUID, Set<Consumer<Event>>> subscribers = new ConcurrentHashMap<>();
    private final CountDownLatch firstListen = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;

    private ProjectEvents(String jdbcUrl, String schema) {
        this.jdbcUrl = jdbcUrl;
        this.channel = "imagegen_" + schema;
        this.thread = new Thread(this::listenUntilClosed, "imagegen-events-" + schema);
        this.thread.setDaemon(true);
    }

    /**
     * Starts listening, and returns once the first LISTEN is in place, so that a subscriber that
     * reads a project after subscribing misses nothing.
     *
     * @throws IllegalStateException if no LISTEN succeeded within {@code timeout}
     */
    static ProjectEvents start(String jdbcUrl, String schema, Duration timeout) throws InterruptedException {
        ProjectEvents events = new ProjectEvents(jdbcUrl, schema);
        events.thread.start();
        if (!events.firstListen.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            events.close();
            throw new IllegalStateException("could not LISTEN on " + events.channel + " within " + timeout);
        }
        return events;
    }

    /** Calls {@code subscriber} with each event of {@code projectId} until the returned handle is closed. */
    Subscription subscribe(UUID projectId, Consumer<Event> subscriber) {
        subscribers.computeIfAbsent(projectId, id -> ConcurrentHashMap.newKeySet()).add(subscriber);
        return () -> subscribers.computeIfPresent(projectId, (id, set) -> {
            set.remove(subscriber);
            return set.isEmpty() ? null : set;
        });
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

    private void dispatch(String payload) {
        try {
            JsonNode node = json.readTree(payload);
            UUID projectId = UUID.fromString(node.path("project").asText());
            Event event = new Event(node.path("type").asText(), payload);
            subscribers.getOrDefault(projectId, Set.of()).forEach(subscriber -> subscriber.accept(event));
        } catch (Exception e) {
            log.warn("ignoring a notification on {} that is not an event: {}", channel, payload, e);
        }
    }

    private void broadcast(Event event) {
        subscribers.values().forEach(set -> set.forEach(subscriber -> subscriber.accept(event)));
    }
}
