package dev.pgqueue.dashboard;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import dev.pgqueue.Health;
import dev.pgqueue.admin.JobAdmin;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * pgqueue's web dashboard: pages for every queue, job, failure group, worker, recurring schedule and
 * the job table's health, with actions (retry, cancel, delete, run now, pause, resume, bulk by filter,
 * edit and replay a payload, retry a workflow from its failed node). Built only on {@link JobAdmin}
 * and worker {@link Health} probes; its HTML, CSS and JavaScript come from this jar.
 *
 * <p>One dashboard serves any number of mounts: {@link #mount} on the JDK's {@link HttpServer}, a
 * {@link DashboardServlet} in a servlet container, or {@link DashboardServer} stand-alone.
 *
 * <pre>{@code
 * Dashboard dashboard = Dashboard.builder(admin)
 *         .authorizer(request -> request.principal() != null)
 *         .build();
 * dashboard.mount(httpServer, "/pgqueue");
 * }</pre>
 *
 * <p>Security: every action needs an {@link Authorizer} that allows it (there is no default; without
 * one the dashboard is read-only), a same-origin {@code Origin} (or {@code Referer}) header and the
 * page's CSRF token; {@link Builder#readOnly} turns actions off whatever the authorizer says. Every
 * value is HTML-escaped; filter text goes to the admin API, which binds it as a parameter. Pages send
 * a Content Security Policy that allows only this dashboard's own scripts and styles.
 *
 * <p>Live updates: a page polls itself every {@link Builder#refreshInterval} while it is visible, one
 * short request at a time, so it holds no connection open. Immutable and thread-safe.
 */
public final class Dashboard {

    /** Default interval at which an open page refreshes its live part: 2 s. */
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(2);
    /** Shortest refresh interval: 500 ms. */
    public static final Duration MIN_REFRESH_INTERVAL = Duration.ofMillis(500);

    private final DashboardHandler handler;

    private Dashboard(Builder builder) {
        this.handler = new DashboardHandler(builder.admin, builder.authorizer, builder.readOnly, builder.hidePayloads,
                Map.copyOf(builder.probes), builder.refreshInterval);
    }

    /**
     * {@return a builder for a dashboard over {@code admin}}
     *
     * @param admin the admin API it reads and acts through
     */
    public static Builder builder(JobAdmin admin) {
        return new Builder(Objects.requireNonNull(admin, "admin"));
    }

    /**
     * Serves the dashboard on {@code server} at {@code path} ({@code /pgqueue} serves
     * {@code /pgqueue/} and everything below it; {@code /pgqueue} alone redirects there). The
     * dashboard's requests run on the server's executor.
     *
     * @param server the server
     * @param path   where to mount it: {@code /}, or {@code /} followed by path segments, without a
     *               trailing {@code /}
     * @return the server's context, to which an {@link com.sun.net.httpserver.Authenticator} or
     *         filters may be added
     * @throws IllegalArgumentException if {@code path} is not of that form
     */
    public HttpContext mount(HttpServer server, String path) {
        String mount = mountPath(path);
        return server.createContext(mount.isEmpty() ? "/" : mount,
                exchange -> handler.handle(new HttpServerExchange(exchange, mount), null));
    }

    DashboardHandler handler() {
        return handler;
    }

    /** {@code "/a/b"} for {@code "/a/b"}, {@code ""} for {@code "/"}. */
    static String mountPath(String path) {
        Objects.requireNonNull(path, "path");
        if (path.equals("/")) {
            return "";
        }
        if (!path.matches("(/[A-Za-z0-9._~-]+)+")) {
            throw new IllegalArgumentException("expected path to be / or /segment[/segment…] (letters, digits, . _ ~ -)"
                    + " without a trailing /, got: " + path);
        }
        return path;
    }

    /** Builds a {@link Dashboard}. Not thread-safe. */
    public static final class Builder {
        private final JobAdmin admin;
        private Authorizer authorizer;
        private boolean readOnly;
        private boolean hidePayloads;
        private final Map<String, Supplier<Health>> probes = new LinkedHashMap<>();
        private Duration refreshInterval = DEFAULT_REFRESH_INTERVAL;

        private Builder(JobAdmin admin) {
            this.admin = admin;
        }

        /**
         * Who may perform actions. Default: nobody (no authorizer: every action is refused).
         *
         * @param authorizer decides per request; see {@link Authorizer#loopbackOnly()} for this machine only
         * @return this builder
         */
        public Builder authorizer(Authorizer authorizer) {
            this.authorizer = Objects.requireNonNull(authorizer, "authorizer");
            return this;
        }

        /**
         * Turns every action off, whatever the authorizer says. Default false.
         *
         * @param readOnly whether the dashboard only shows
         * @return this builder
         */
        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return this;
        }

        /**
         * Hides job payloads and results (personal data): pages say "hidden" instead, and a payload
         * cannot be edited. Default false.
         *
         * @param hidePayloads whether to hide them
         * @return this builder
         */
        public Builder hidePayloads(boolean hidePayloads) {
            this.hidePayloads = hidePayloads;
            return this;
        }

        /**
         * Adds a health probe shown on the workers page, typically {@code worker::health} of a worker in
         * this JVM.
         *
         * @param name  what to call it on the page
         * @param probe reads the health; called on each request of the page
         * @return this builder
         * @throws IllegalArgumentException if a probe of that name was already added
         */
        public Builder health(String name, Supplier<Health> probe) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(probe, "probe");
            if (probes.putIfAbsent(name, probe) != null) {
                throw new IllegalArgumentException("expected a new health probe name, got one already added: " + name);
            }
            return this;
        }

        /**
         * How often an open page refreshes its live part. Default {@link #DEFAULT_REFRESH_INTERVAL}.
         *
         * @param interval at least {@link #MIN_REFRESH_INTERVAL}
         * @return this builder
         * @throws IllegalArgumentException if shorter
         */
        public Builder refreshInterval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.compareTo(MIN_REFRESH_INTERVAL) < 0) {
                throw new IllegalArgumentException("expected refreshInterval to be >= " + MIN_REFRESH_INTERVAL
                        + ", got: " + interval);
            }
            this.refreshInterval = interval;
            return this;
        }

        /** {@return the dashboard} */
        public Dashboard build() {
            return new Dashboard(this);
        }
    }
}
