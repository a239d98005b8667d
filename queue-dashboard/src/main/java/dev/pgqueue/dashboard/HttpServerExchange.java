package dev.pgqueue.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.security.Principal;
import java.util.Map;
import java.util.Optional;

/** An {@link Exchange} on the JDK's {@code com.sun.net.httpserver}. */
final class HttpServerExchange implements Exchange {

    private final HttpExchange exchange;
    private final String mount;

    HttpServerExchange(HttpExchange exchange, String mount) {
        this.exchange = exchange;
        this.mount = mount;
    }

    @Override
    public String method() {
        return exchange.getRequestMethod().toUpperCase(java.util.Locale.ROOT);
    }

    @Override
    public String rawPath() {
        return exchange.getRequestURI().getRawPath();
    }

    @Override
    public String header(String name) {
        return exchange.getRequestHeaders().getFirst(name);
    }

    @Override
    public InetAddress remoteAddress() {
        return exchange.getRemoteAddress() == null ? null : exchange.getRemoteAddress().getAddress();
    }

    @Override
    public Principal principal() {
        return exchange.getPrincipal();
    }

    @Override
    public <T> Optional<T> unwrap(Class<T> type) {
        return type.isInstance(exchange) ? Optional.of(type.cast(exchange)) : Optional.empty();
    }

    @Override
    public String mountPath() {
        return mount;
    }

    @Override
    public String rawQuery() {
        return exchange.getRequestURI().getRawQuery();
    }

    @Override
    public boolean secure() {
        return exchange instanceof HttpsExchange;
    }

    @Override
    public InputStream bodyStream() {
        return exchange.getRequestBody();
    }

    @Override
    public void send(int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
        boolean head = method().equals("HEAD");
        exchange.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (!head) {
                out.write(body);
            }
        }
    }
}
