package dev.pgqueue.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgqueue.jdbi.SchemaMigrator;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgqueue migrate}: applies pgqueue's pending migrations to the schema, as
 * {@link SchemaMigrator#migrate()} does (one transaction, advisory lock, lock timeout). With
 * {@code --print} it applies nothing and prints the SQL that would run
 * ({@link SchemaMigrator#pendingSql()}); without a database, every migration
 * ({@link SchemaMigrator#script(String)}), for a DBA to apply with {@code psql -f}.
 */
@Command(name = "migrate", description = "Apply pgqueue's migrations to the schema; with --print, print their SQL and apply nothing")
final class MigrateCommand extends CliCommand {

    @Option(names = "--print", description = "Print the SQL that would run (every migration when no database is given) and apply nothing")
    boolean print;

    @Override
    public Integer call() {
        if (print) {
            String url = cli().urlOrNull();
            String script = url == null ? SchemaMigrator.script(cli().schema()) : database().migrator().pendingSql();
            if (script.isEmpty()) {
                script = "-- Nothing to apply: every pgqueue migration is recorded in schema " + cli().schema() + ".\n";
            }
            if (json()) {
                ObjectNode node = Json.object();
                node.put("schema", cli().schema());
                node.put("script", script);
                Json.print(out(), node);
            } else {
                out().print(script);
                out().flush();
            }
            return PgQueueCli.EXIT_OK;
        }
        SchemaMigrator migrator = database().migrator();
        List<Integer> applied = migrator.migrate();
        int version = migrator.currentVersion();
        if (json()) {
            ObjectNode node = Json.object();
            node.put("schema", database().schema());
            ArrayNode array = node.putArray("applied");
            applied.forEach(array::add);
            node.put("version", version);
            Json.print(out(), node);
        } else if (applied.isEmpty()) {
            out().println("schema " + database().schema() + " is up to date (migration version " + version + ")");
        } else {
            out().println("applied migration" + (applied.size() == 1 ? " " : "s ") + applied + " to schema "
                    + database().schema() + " (now at version " + version + ")");
        }
        out().flush();
        return PgQueueCli.EXIT_OK;
    }
}
