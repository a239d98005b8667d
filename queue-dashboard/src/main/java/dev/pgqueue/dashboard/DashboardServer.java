package dev.pgqueue.dashboard;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.io.PrintStream;
import java.util.ArrayList;
import org.jdbi.v3.core.Jdbi;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Dashboard} on a server of its own (the JDK's {@link HttpServer}), at the root path. Bound to
 * {@value #DEFAULT_BIND} (this machine only) unless told otherwise. Every request must name this
 * server in {@code Host} (a literal address it listens on, or {@code localhost} when it listens on
 * loopback), else it is answered 421: a page on a DNS name rebound to this machine cannot read or act.
 * Requests run on at most {@value #THREADS} threads; pages poll, so no request holds one for long.
 *
 * <p>{@link #main} runs it against a JDBC URL; see {@code docs/dashboard.md}.
 */
public final class DashboardServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);

    /** Default address to listen on: loopback, this machine only. */
    public static final String DEFAULT_BIND = "127.0.0.1";
    /** Default port. */
    public static final int DEFAULT_PORT = 8090;
    /** Most requests served at once; more wait in a bounded queue. */
    public static final int THREADS = 8;

    static final String USAGE = """
            usage: java -jar queue-dashboard.jar --url JDBC_URL [options]
              --url JDBC_URL        the database (or the environment's PGQUEUE_JDBC_URL), e.g.
                                    'jdbc:postgresql://localhost:5432/app?user=ops'
              --schema NAME         the schema of job_queue (default public)
              --bind ADDRESS        the address to listen on (default 127.0.0.1: this machine only)
              --port N              the port (default 8090; 0 = any free port)
              --read-only           no actions at all
              --allow-local-actions allow actions from this machine (loopback clients); without it
                                    the dashboard only shows. Not behind a proxy on this machine.
              --hide-payloads       show no job payloads or results (personal data)
            """;

    private final HttpServer server;
    private final ThreadPoolExecutor threads;
    private final List<AutoCloseable> resources = new ArrayList<>();

    private DashboardServer(HttpServer server, ThreadPoolExecutor threads) {
        this.server = server;
        this.threads = threads;
    }

    /**
     * Runs the dashboard stand-alone against a JDBC URL until the process is stopped; {@code --help}
     * lists the options. Without {@code --allow-local-actions} it only shows: actions need that explicit
     * opt-in, which allows them from this machine's loopback clients. The schema must be migrated: the
     * dashboard never migrates it, and says so if it is not.
     *
     * @param args the options
     * @throws Exception if it cannot start
     */
    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args, System.getenv("PGQUEUE_JDBC_URL"));
        } catch (IllegalArgumentException e) {
            System.err.println("pgqueue dashboard: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.print(USAGE);
            return;
        }
        DashboardServer server = start(options, System.out);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "pgqueue-dashboard-stop"));
        Thread.currentThread().join();
    }

    /** The command line. */
    record Options(String jdbcUrl, String schema, String bind, int port, boolean readOnly, boolean allowLocalActions,
            boolean hidePayloads) {

        /** The options, or null for {@code --help}. */
        static Options parse(String[] args, String envUrl) {
            String url = envUrl;
            String schema = JdbiJobStore.DEFAULT_SCHEMA;
            String bind = DEFAULT_BIND;
            int port = DEFAULT_PORT;
            boolean readOnly = false;
            boolean local = false;
            boolean hide = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--help", "-h" -> {
                        return null;
                    }
                    case "--url" -> url = value(args, ++i, a);
                    case "--schema" -> schema = value(args, ++i, a);
                    case "--bind" -> bind = value(args, ++i, a);
                    case "--port" -> {
                        String v = value(args, ++i, a);
                        try {
                            port = Integer.parseInt(v);
                        } catch (NumberFormatException e) {
                            port = -1;
                        }
                        if (port < 0 || port > 65_535) {
                            throw new IllegalArgumentException("expected --port to be 0 to 65535, got: " + v);
                        }
                    }
                    case "--read-only" -> readOnly = true;
                    case "--allow-local-actions" -> local = true;
                    case "--hide-payloads" -> hide = true;
                    default -> throw new IllegalArgumentException("unknown option: " + a);
                }
            }
            if (url == null || url.isBlank()) {
                throw new IllegalArgumentException("expected a JDBC URL (--url or PGQUEUE_JDBC_URL), got none");
            }
            if (readOnly && local) {
                throw new IllegalArgumentException("expected --read-only or --allow-local-actions, got both");
            }
            return new Options(url.strip(), schema, bind, port, readOnly, local, hide);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length || args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected a value after " + option);
            }
            return args[i];
        }
    }

    /** Connects to the database and serves its dashboard as {@code options} say. */
    static DashboardServer start(Options options, PrintStream out) throws IOException {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(options.jdbcUrl());
        config.setMaximumPoolSize(4);
        config.setPoolName("pgqueue-dashboard");
        HikariDataSource pool = new HikariDataSource(config);
        try {
            // A dashboard never changes the schema: it only checks that it is migrated.
            JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(pool)).schema(options.schema()).migrate(false).build();
            Dashboard.Builder dashboard = Dashboard.builder(JdbiJobAdmin.create(store))
                    .readOnly(options.readOnly())
                    .hidePayloads(options.hidePayloads());
            if (options.allowLocalActions()) {
                dashboard.authorizer(Authorizer.loopbackOnly());
            }
            DashboardServer server = start(dashboard.build(), options.bind(), options.port());
            server.resources.add(pool);
            out.println("pgqueue dashboard on " + server.address() + " ("
                    + (options.allowLocalActions() ? "actions allowed from this machine" : "read-only") + ")");
            return server;
        } catch (IOException | RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /**
     * Starts serving {@code dashboard}.
     *
     * @param dashboard the dashboard
     * @param bind      the address to listen on, e.g. {@value #DEFAULT_BIND}; {@code 0.0.0.0} for every
     *                  address of this machine
     * @param port      the port, 0 for any free one
     * @return the running server
     * @throws IOException if it cannot listen there
     */
    public static DashboardServer start(Dashboard dashboard, String bind, int port) throws IOException {
        Objects.requireNonNull(dashboard, "dashboard");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("expected port to be 0 to 65535, got: " + port);
        }
        InetAddress address = InetAddress.getByName(Objects.requireNonNull(bind, "bind"));
        HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 0);
        int bound = server.getAddress().getPort();
        Set<String> hosts = new HashSet<>();
        for (String name : hostNames(address)) {
            hosts.add(name + ":" + bound);
            if (bound == 80) {
                hosts.add(name);
            }
        }
        Set<String> allowed = Set.copyOf(hosts);
        DashboardHandler handler = dashboard.handler();
        server.createContext("/", exchange -> handler.handle(new HttpServerExchange(exchange, ""), allowed));
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor threads = new ThreadPoolExecutor(THREADS, THREADS, 5, TimeUnit.SECONDS, new ArrayBlockingQueue<>(128),
                r -> {
                    Thread t = new Thread(r, "pgqueue-dashboard-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        threads.allowCoreThreadTimeOut(true);
        server.setExecutor(threads);
        server.start();
        return new DashboardServer(server, threads);
    }

    /** {@return the dashboard's address, e.g. {@code http://localhost:8090/}} */
    public URI address() {
        InetAddress address = server.getAddress().getAddress();
        String host = address.isLoopbackAddress() || address.isAnyLocalAddress() ? "localhost" : literal(address);
        return URI.create("http://" + host + ":" + server.getAddress().getPort() + "/");
    }

    /** Stops serving: waits up to a second for requests in flight. */
    @Override
    public void close() {
        server.stop(1);
        threads.shutdownNow();
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn("closing {} failed", resource, e);
            }
        }
    }

    /**
     * The names a request may give in {@code Host}: the bound address; for a loopback or wildcard
     * address also {@code localhost}; for the wildcard address every address of this machine and its
     * host name.
     */
    static Set<String> hostNames(InetAddress bound) {
        Set<String> names = new HashSet<>();
        names.add(literal(bound));
        if (bound.isLoopbackAddress() || bound.isAnyLocalAddress()) {
            names.addAll(List.of("localhost", "127.0.0.1", "[::1]"));
        }
        if (bound.isAnyLocalAddress()) {
            try {
                names.add(InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT));
                for (NetworkInterface network : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    Collections.list(network.getInetAddresses()).forEach(a -> names.add(literal(a)));
                }
            } catch (IOException | UncheckedIOException e) {
                log.warn("could not list this machine's addresses; requests must name localhost: {}", e.toString());
            }
        }
        return names;
    }

    private static String literal(InetAddress address) {
        String literal = address.getHostAddress().replaceFirst("%.*$", "");
        return (address instanceof Inet6Address ? "[" + literal + "]" : literal).toLowerCase(Locale.ROOT);
    }
}
