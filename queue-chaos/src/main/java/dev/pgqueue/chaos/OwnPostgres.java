package dev.pgqueue.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server of the harness's own: its own data directory and port, made with
 * {@code initdb} and run with {@code pg_ctl}, so that crashing it ({@link #crash()}) harms nobody
 * else. Uses the binaries in {@value #BIN_ENV} if set, else the newest {@code /usr/lib/postgresql/N/bin}
 * (Debian, Ubuntu), else {@code pg_config --bindir}. {@code pg_ctl} and {@code initdb} refuse to run
 * as root, so as root they run as the {@code postgres} user through {@code runuser}.
 */
public final class OwnPostgres implements AutoCloseable {

    public static final String BIN_ENV = "PGQUEUE_CHAOS_PG_BIN";
    private static final Logger log = LoggerFactory.getLogger(OwnPostgres.class);
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private final Path bin;
    private final Path base;
    private final Path data;
    private final int port;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private OwnPostgres(Path bin, Path base, int port) {
        this.bin = bin;
        this.base = base;
        this.data = base.resolve("data");
        this.port = port;
    }

    /**
     * Creates and starts a new cluster. {@code settings} are extra {@code -c name=value} server
     * settings (autovacuum tuning in the soak run, say).
     *
     * @throws IllegalStateException if no PostgreSQL binaries are found
     */
    public static OwnPostgres start(List<String> settings) {
        Path bin = findBinaries().orElseThrow(() -> new IllegalStateException(
                "no PostgreSQL server binaries (initdb, pg_ctl) found: install PostgreSQL 14+ or set "
                        + BIN_ENV + " to its bin directory"));
        try {
            Path base = Files.createTempDirectory("pgqueue-chaos-");
            OwnPostgres server = new OwnPostgres(bin, base, freePort());
            if (ROOT) {
                server.exec(List.of("chown", "postgres:postgres", base.toString()), false);
            }
            server.exec(List.of(bin.resolve("initdb").toString(), "-D", server.data.toString(), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"), true);
            List<String> options = new ArrayList<>(List.of(
                    "-p", String.valueOf(server.port),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", "unix_socket_directories=" + base,
                    "-c", "max_connections=300",
                    "-c", "log_min_messages=warning"));
            for (String setting : settings) {
                options.add("-c");
                options.add(setting);
            }
            Files.writeString(base.resolve("options"), String.join(" ", options));
            server.pgCtl("start");
            log.info("own PostgreSQL at {} (data {})", server.jdbcUrl(), server.data);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether PostgreSQL server binaries were found (see the class comment). */
    public static boolean available() {
        return findBinaries().isPresent();
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
    }

    public int port() {
        return port;
    }

    /**
     * Crashes the server and starts it again on the same data directory and port: every backend is
     * killed without a checkpoint (SIGQUIT, {@code -m immediate}), and the restart runs crash
     * recovery from the WAL, as after a power loss of the database host.
     */
    public void crash() {
        pgCtl("restart", "-m", "immediate");
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    /** Stops the server and deletes its data directory. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            pgCtl("stop", "-m", "immediate");
        } catch (RuntimeException e) {
            log.warn("could not stop own PostgreSQL: {}", e.getMessage());
        }
        try (Stream<Path> files = Files.walk(base)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.warn("could not delete {}: {}", base, e.getMessage());
        }
    }

    private void pgCtl(String command, String... more) {
        List<String> args = new ArrayList<>(List.of(bin.resolve("pg_ctl").toString(), command, "-D", data.toString(),
                "-w", "-t", "60", "-l", base.resolve("server.log").toString()));
        args.addAll(List.of(more));
        if (!command.equals("stop")) {
            try {
                args.addAll(List.of("-o", Files.readString(base.resolve("options"))));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        exec(args, true);
    }

    private void exec(List<String> command, boolean asPostgres) {
        List<String> full = new ArrayList<>();
        if (asPostgres && ROOT) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        try {
            Path out = Files.createTempFile("pgqueue-chaos-cmd", ".log");
            Process process = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", full));
            }
            String output = Files.readString(out);
            Files.delete(out);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("failed (" + process.exitValue() + "): " + String.join(" ", full) + "\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", full), e);
        }
    }

    private static Optional<Path> findBinaries() {
        String configured = System.getenv(BIN_ENV);
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured));
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> newest = versions
                        .filter(v -> v.getFileName().toString().matches("\\d+"))
                        .filter(v -> Files.isExecutable(v.resolve("bin/pg_ctl")))
                        .max(Comparator.comparingInt(v -> Integer.parseInt(v.getFileName().toString())))
                        .map(v -> v.resolve("bin"));
                if (newest.isPresent()) {
                    return newest;
                }
            } catch (IOException e) {
                // fall through to pg_config
            }
        }
        try {
            Process process = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            String dir = new String(process.getInputStream().readAllBytes()).strip();
            if (process.waitFor() == 0 && Files.isExecutable(Path.of(dir, "pg_ctl"))) {
                return Optional.of(Path.of(dir));
            }
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
