package dev.pgqueue.chaos;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Each worker's log of handler starts and ends, written outside any transaction and flushed to the
 * OS line by line (a SIGKILL loses nothing written before it). One line per event:
 * {@code S,<job>,<attempt>,<worker>,<epoch µs>} and {@code E,<job>,<attempt>,<worker>,<epoch µs>,<result>}.
 */
final class EventLog implements AutoCloseable {

    record Event(boolean start, UUID job, int attempt, String worker, long micros, String result) {}

    private final OutputStream out;

    EventLog(Path file) {
        try {
            this.out = new FileOutputStream(file.toFile(), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
    }

    synchronized void start(UUID job, int attempt, String worker) {
        write("S," + job + "," + attempt + "," + worker + "," + nowMicros() + "\n");
    }

    synchronized void end(UUID job, int attempt, String worker, String result) {
        write("E," + job + "," + attempt + "," + worker + "," + nowMicros() + "," + result + "\n");
    }

    private void write(String line) {
        try {
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** Reads every complete line of the logs in {@code dir} (a killed worker's last line may be cut). */
    static List<Event> readAll(Path dir) throws IOException {
        List<Event> events = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".events")).toList()) {
                String text = Files.readString(file);
                int end = text.lastIndexOf('\n');
                if (end < 0) {
                    continue;
                }
                for (String line : text.substring(0, end).split("\n")) {
                    String[] f = line.split(",", 6);
                    if (f.length < 5 || (f[0].equals("E") && f.length < 6)) {
                        continue;
                    }
                    events.add(new Event(f[0].equals("S"), UUID.fromString(f[1]), Integer.parseInt(f[2]), f[3],
                            Long.parseLong(f[4]), f.length == 6 ? f[5] : null));
                }
            }
        }
        return events;
    }
}
