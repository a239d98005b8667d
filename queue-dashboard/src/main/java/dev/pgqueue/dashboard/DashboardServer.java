package dev.pgqueue.dashboard;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.URI;
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

    private final HttpServer server;
    private final ThreadPoolExecutor threads;

    private DashboardServer(HttpServer server, ThreadPoolExecutor threads) {
        this.server = server;
        this.threads = threads;
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
