package dev.pgqueue.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A table for people: a header and rows, columns padded to their widest cell, numbers right-aligned.
 * Cells are folded onto one line and cut at {@link #MAX_CELL} characters, so one long error message
 * cannot wreck the layout ({@code job show} and {@code --json} print it whole).
 */
final class Table {

    static final int MAX_CELL = 60;

    private final String[] header;
    private final boolean[] numeric;
    private final List<String[]> rows = new ArrayList<>();

    /** @param header the column names; a name ending in {@code '>'} marks a right-aligned (numeric) column */
    Table(String... header) {
        this.header = new String[header.length];
        this.numeric = new boolean[header.length];
        for (int i = 0; i < header.length; i++) {
            numeric[i] = header[i].endsWith(">");
            this.header[i] = numeric[i] ? header[i].substring(0, header[i].length() - 1) : header[i];
        }
    }

    Table row(Object... cells) {
        if (cells.length != header.length) {
            throw new IllegalArgumentException("expected " + header.length + " cells, got: " + cells.length);
        }
        rows.add(Arrays.stream(cells).map(Table::cell).toArray(String[]::new));
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    void print(PrintWriter out) {
        int[] widths = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            widths[i] = header[i].length();
            for (String[] row : rows) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        line(out, header, widths);
        for (String[] row : rows) {
            line(out, row, widths);
        }
        out.flush();
    }

    private void line(PrintWriter out, String[] cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                line.append("  ");
            }
            String pad = " ".repeat(widths[i] - cells[i].length());
            line.append(numeric[i] ? pad + cells[i] : cells[i] + (i < cells.length - 1 ? pad : ""));
        }
        out.println(line);
    }

    private static String cell(Object value) {
        if (value == null) {
            return "-";
        }
        if (value.toString().isBlank()) {
            return "";
        }
        String text = OneLine.of(value.toString());
        return text.length() > MAX_CELL ? text.substring(0, MAX_CELL - 1) + "…" : text;
    }
}
