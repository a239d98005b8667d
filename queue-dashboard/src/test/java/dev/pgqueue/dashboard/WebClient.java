package dev.pgqueue.dashboard;

import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A browser-like HTTP client for the dashboard's pages: keeps cookies, reads the CSRF token, posts forms. */
final class WebClient {

    private static final Pattern TOKEN = Pattern.compile("name=\"pgqueue-csrf\" content=\"([A-Za-z0-9_-]+)\"");

    final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
    final URI base;

    WebClient(URI base) {
        this.base = base;
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The CSRF token of the page at {@code path} (which sets the cookie it belongs to). */
    String token(String path) throws Exception {
        Matcher m = TOKEN.matcher(get(path).body());
        if (!m.find()) {
            throw new AssertionError("no CSRF token on " + path);
        }
        return m.group(1);
    }

    /** Posts a url-encoded form with the given Origin header (null for none). */
    HttpResponse<String> post(String path, String form, String origin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (origin != null) {
            b.header("Origin", origin);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** This server's own origin, as a browser on its pages sends it. */
    String origin() {
        return base.getScheme() + "://" + base.getAuthority();
    }
}
