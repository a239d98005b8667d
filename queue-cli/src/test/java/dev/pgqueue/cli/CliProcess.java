package dev.pgqueue.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the built CLI as a user does: {@code java -jar pgqueue-cli.jar …} (or the {@code pgqueue}
 * launcher script) in a separate process, with {@code PGQUEUE_URL} removed from its
 * environment unless a test sets them, and returns its exit code, stdout and stderr.
 */
final class CliProcess {

    /** The jar {@code mvn package} built (failsafe passes its path), else where it lands. */
    static final Path JAR = Path.of(System.getProperty("pgqueue.cli.jar", "target/pgqueue-cli.jar")).toAbsolutePath();
    static final Path LAUNCHER = Path.of(System.getProperty("pgqueue.cli.launcher", "bin/pgqueue")).toAbsolutePath();
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    /** What a run printed and returned. */
    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    private CliProcess() {}

    static Result run(String... args) {
        return run(Map.of(), args);
    }

    /** Runs {@code java -jar} with {@code env} added to a clean environment. */
    static Result run(Map<String, String> env, String... args) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException("no CLI jar at " + JAR + ": run the tests with mvn verify (they need the package phase)");
        }
        List<String> command = new ArrayList<>(List.of(JAVA.toString(), "-XX:TieredStopAtLevel=1", "-jar", JAR.toString()));
        command.addAll(Arrays.asList(args));
        return start(command, env);
    }

    /** Starts {@code java -jar} without waiting for it, for a command that serves until stopped; the caller destroys it. */
    static Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(JAVA.toString(), "-XX:TieredStopAtLevel=1", "-jar", JAR.toString()));
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove(PgQueueCli.URL_ENV);
        return builder.start();
    }

    /** Runs the {@code pgqueue} launcher script with {@code sh}, pointed at the built jar. */
    static Result launcher(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of("sh", LAUNCHER.toString()));
        command.addAll(Arrays.asList(args));
        return start(command, env);
    }

    private static Result start(List<String> command, Map<String, String> env) {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove(PgQueueCli.URL_ENV);
        builder.environment().remove("PGQUEUE_CLI_JAR");
        builder.environment().remove("JAVA_OPTS");
        builder.environment().putAll(env);
        try {
            Process process = builder.start();
            process.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("the CLI did not exit within 120 s: " + command);
            }
            return new Result(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
