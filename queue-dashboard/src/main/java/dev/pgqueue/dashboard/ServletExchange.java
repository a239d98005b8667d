package dev.pgqueue.dashboard;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.Principal;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** An {@link Exchange} in a servlet container. */
final class ServletExchange implements Exchange {

    private final HttpServletRequest request;
    private final HttpServletResponse response;

    ServletExchange(HttpServletRequest request, HttpServletResponse response) {
        this.request = request;
        this.response = response;
    }

    @Override
    public String method() {
        return request.getMethod().toUpperCase(Locale.ROOT);
    }

    @Override
    public String rawPath() {
        return request.getRequestURI(); // raw (encoded), as the JDK server gives it
    }

    @Override
    public String header(String name) {
        return request.getHeader(name);
    }

    @Override
    public InetAddress remoteAddress() {
        try {
            return InetAddress.getByName(request.getRemoteAddr()); // a literal address: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }

    @Override
    public Principal principal() {
        return request.getUserPrincipal();
    }

    @Override
    public <T> Optional<T> unwrap(Class<T> type) {
        return type.isInstance(request) ? Optional.of(type.cast(request)) : Optional.empty();
    }

    @Override
    public String mountPath() {
        return request.getContextPath() + request.getServletPath();
    }

    @Override
    public String rawQuery() {
        return request.getQueryString();
    }

    @Override
    public boolean secure() {
        return request.isSecure();
    }

    @Override
    public InputStream bodyStream() throws IOException {
        return request.getInputStream();
    }

    @Override
    public void send(int status, Map<String, String> headers, byte[] body) throws IOException {
        response.setStatus(status);
        headers.forEach(response::setHeader);
        if (method().equals("HEAD") || body.length == 0) {
            return;
        }
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }
}
