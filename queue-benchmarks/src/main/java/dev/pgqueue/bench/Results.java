package dev.pgqueue.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Every measured value: written at once as a CSV line {@code system,workload,run,metric,value} (the
 * peer benchmark's format, so that its {@code summarize.py} reads these files too), and summarised
 * at the end as a table of medians with their range.
 */
final class Results implements AutoCloseable {

    static final String HEADER = "system,workload,run,metric,value";

    /** Which medians to compare in the summary: {@code numerator / denominator} of {@code metric}. */
    record Ratio(String workload, String numerator, String denominator, String metric) {}

    private record Key(String workload, String system, String metric) {}

    private final PrintWriter csv;
    private final Map<Key, List<Double>> values = new LinkedHashMap<>();

    private Results(PrintWriter csv) {
        this.csv = csv;
    }

    /** Creates {@code file} (and its folder) with {@code comments} as {@code #} lines, then the header. */
    static Results open(Path file, List<String> comments) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        PrintWriter csv = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8));
        comments.forEach(comment -> csv.println("# " + comment));
        csv.println(HEADER);
        csv.flush();
        return new Results(csv);
    }

    void add(String system, String workload, int run, List<Metric> metrics) {
        for (Metric metric : metrics) {
            csv.printf(Locale.ROOT, "%s,%s,%d,%s,%.3f%n", system, workload, run, metric.name(), metric.value());
            values.computeIfAbsent(new Key(workload, system, metric.name()), k -> new ArrayList<>()).add(metric.value());
        }
        csv.flush();
    }

    /** The table of medians (min–max), by workload, system and metric in the order they ran; then the ratios. */
    void printSummary(PrintStream out, List<Ratio> ratios) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"workload", "system", "metric", "n", "median (min–max)"});
        List<String> workloads = values.keySet().stream().map(Key::workload).distinct().toList();
        for (String workload : workloads) {
            values.forEach((key, list) -> {
                if (key.workload().equals(workload)) {
                    List<Double> sorted = list.stream().sorted().toList();
                    rows.add(new String[] {key.workload(), key.system(), key.metric(), Integer.toString(list.size()),
                            format(median(sorted)) + " (" + format(sorted.get(0)) + "–" + format(sorted.get(sorted.size() - 1)) + ")"});
                }
            });
        }
        int[] widths = new int[rows.get(0).length];
        rows.forEach(row -> {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        });
        for (int r = 0; r < rows.size(); r++) {
            String[] row = rows.get(r);
            if (r > 1 && !row[0].equals(rows.get(r - 1)[0])) {
                out.println(); // a blank line between workloads
            }
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 3 ? String.format("%" + widths[i] + "s", row[i]) : String.format("%-" + widths[i] + "s", row[i]));
                line.append(i < row.length - 1 ? "  " : "");
            }
            out.println(line.toString().stripTrailing());
        }
        List<String> compared = new ArrayList<>();
        for (Ratio ratio : ratios) {
            Optional<Double> top = median(ratio.workload(), ratio.numerator(), ratio.metric());
            Optional<Double> bottom = median(ratio.workload(), ratio.denominator(), ratio.metric());
            if (top.isPresent() && bottom.isPresent()) {
                compared.add(String.format(Locale.ROOT, "%s %s: %s / %s = %.2f", ratio.workload(), ratio.metric(),
                        ratio.numerator(), ratio.denominator(), top.get() / bottom.get()));
            }
        }
        if (!compared.isEmpty()) {
            out.println();
            out.println("ratios of medians:");
            compared.forEach(line -> out.println("  " + line));
        }
        out.flush();
    }

    private Optional<Double> median(String workload, String system, String metric) {
        List<Double> list = values.get(new Key(workload, system, metric));
        return list == null ? Optional.empty() : Optional.of(median(list.stream().sorted().toList()));
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** As the peer benchmark's summary: three significant figures or so, thousands grouped. */
    static String format(double x) {
        double abs = Math.abs(x);
        if (Double.isNaN(x)) {
            return "NaN";
        }
        if (abs >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", x);
        }
        if (abs >= 100) {
            return String.format(Locale.ROOT, "%.0f", x);
        }
        if (abs >= 10) {
            return String.format(Locale.ROOT, "%.1f", x);
        }
        return String.format(Locale.ROOT, "%.2f", x);
    }

    @Override
    public void close() {
        csv.close();
    }
}
