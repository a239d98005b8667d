package dev.pgqueue.dashboard;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** Parameters of a query string or a url-encoded form: names with one or more values, in order. */
final class Params {

    private final Map<String, List<String>> values = new LinkedHashMap<>();

    static Params parse(String encoded) {
        Params params = new Params();
        if (encoded == null || encoded.isEmpty()) {
            return params;
        }
        for (String pair : encoded.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                params.add(name, value);
            } catch (IllegalArgumentException e) {
                throw new BadRequest("expected a url-encoded parameter, got: " + cut(pair, 80));
            }
        }
        return params;
    }

    Params add(String name, String value) {
        values.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
        return this;
    }

    /** The first non-blank value, stripped, or null. */
    String first(String name) {
        for (String v : all(name)) {
            if (!v.isBlank()) {
                return v.strip();
            }
        }
        return null;
    }

    /** The non-blank values, stripped. */
    List<String> all(String name) {
        List<String> out = new ArrayList<>();
        for (String v : values.getOrDefault(name, List.of())) {
            if (!v.isBlank()) {
                out.add(v.strip());
            }
        }
        return out;
    }

    /** The value as it was sent (not stripped), or null. */
    String exact(String name) {
        List<String> v = values.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    Map<String, List<String>> asMap() {
        return values;
    }

    /** As a query string, {@code a=1&b=2} (empty values kept), without names in {@code except}. */
    String encode(String... except) {
        StringJoiner joiner = new StringJoiner("&");
        values.forEach((name, list) -> {
            if (!List.of(except).contains(name)) {
                for (String v : list) {
                    joiner.add(Html.url(name) + "=" + Html.url(v));
                }
            }
        });
        return joiner.toString();
    }

    static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "…";
    }

    /** Bad input from the request: answered 400 with this message. */
    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }
}
