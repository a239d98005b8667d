package dev.pgqueue.cli;

import dev.pgqueue.dashboard.Authorizer;
import dev.pgqueue.dashboard.Dashboard;
import dev.pgqueue.dashboard.DashboardServer;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgqueue dashboard}: serves queue-dashboard's web UI for the database until the process is
 * stopped (Ctrl-C, SIGTERM), as queue-dashboard's {@link DashboardServer} does stand-alone: on
 * 127.0.0.1 unless {@code --bind} says otherwise, showing only unless {@code --allow-local-actions}
 * allows actions from this machine's loopback clients.
 */
@Command(name = "dashboard", description = "Serve the web dashboard for this database until stopped (127.0.0.1:8090 by default)")
final class DashboardCommand extends CliCommand {

    @Option(names = "--bind", paramLabel = "<address>",
            description = "Address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 for every address)")
    String bind = DashboardServer.DEFAULT_BIND;

    @Option(names = "--port", paramLabel = "<port>", description = "Port, 0 for any free one (default: 8090)")
    int port = DashboardServer.DEFAULT_PORT;

    @Option(names = "--read-only", description = "No actions at all")
    boolean readOnly;

    @Option(names = "--allow-local-actions",
            description = "Allow actions from this machine (loopback clients); without it the dashboard only shows. "
                    + "Not behind a reverse proxy on this machine")
    boolean allowLocalActions;

    @Option(names = "--hide-payloads", description = "Show no job payloads or results (personal data)")
    boolean hidePayloads;

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65_535) {
            throw CliException.usage("expected --port to be 0 to 65535, got: " + port);
        }
        if (readOnly && allowLocalActions) {
            throw CliException.usage("expected --read-only or --allow-local-actions, got both");
        }
        database().store(); // the schema is migrated, or one line says to migrate it
        Database pooled = database().pooled(4);
        DashboardServer server;
        try {
            Dashboard.Builder dashboard = Dashboard.builder(pooled.admin()).readOnly(readOnly).hidePayloads(hidePayloads);
            if (allowLocalActions) {
                dashboard.authorizer(Authorizer.loopbackOnly());
            }
            server = DashboardServer.start(dashboard.build(), bind, port);
        } catch (IOException e) {
            pooled.close();
            throw CliException.error("cannot serve the dashboard on " + bind + ":" + port + ": " + OneLine.of(e.getMessage()));
        } catch (RuntimeException e) {
            pooled.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            pooled.close();
            stopped.countDown();
        }, "pgqueue-dashboard-stop"));
        out().println("pgqueue dashboard on " + server.address() + " (schema " + database().schema() + ", "
                + (allowLocalActions ? "actions allowed from this machine" : "read-only") + "); Ctrl-C stops it");
        out().flush();
        stopped.await();
        return PgQueueCli.EXIT_OK;
    }
}
