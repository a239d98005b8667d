package dev.pgqueue.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a child JVM's CPU went, by thread, from Linux's {@code /proc/self/task/<tid>/stat}: every
 * native thread, so also the JIT compilers and the garbage collector, which a JFR execution sample
 * never shows. Threads are grouped by name with digits removed ({@code C2 CompilerThre},
 * {@code GC Thread#}, {@code pgqueue-worker-}, ...; Linux keeps 15 characters of a name).
 */
final class ThreadCpu {

    /** Clock ticks per second of {@code utime} and {@code stime}: 100 on every common Linux. */
    private static final double TICKS_PER_SECOND = 100.0;

    private ThreadCpu() {}

    /** CPU seconds by thread group, largest first; empty where there is no {@code /proc}. */
    static Map<String, Double> byGroup() {
        Map<String, Double> groups = new TreeMap<>();
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return Map.of();
        }
        try (DirectoryStream<Path> all = Files.newDirectoryStream(tasks)) {
            for (Path task : all) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    // pid (comm) state ppid ... : comm may hold spaces and parentheses; fields follow the last ')'
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    double seconds = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
                    groups.merge(name.replaceAll("[0-9]+", ""), seconds, Double::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        Map<String, Double> sorted = new LinkedHashMap<>();
        groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    /** One line: the groups above 1 % of the total, as {@code name=seconds}. */
    static String summary() {
        Map<String, Double> groups = byGroup();
        double total = groups.values().stream().mapToDouble(Double::doubleValue).sum();
        StringBuilder line = new StringBuilder(String.format(java.util.Locale.ROOT, "%.2f s in all:", total));
        groups.forEach((name, seconds) -> {
            if (seconds >= total / 100) {
                line.append(String.format(java.util.Locale.ROOT, " [%s]=%.2f", name, seconds));
            }
        });
        return line.toString();
    }
}
