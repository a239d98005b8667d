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
    public String path() {
        // Raw (encoded) as the JDK server gives it: below context path and servlet path.
        String uri = request.getRequestURI();
        String mount = mountPath();
        if (!uri.startsWith(mount)) {
            return null;
        }
        String rest = uri.substring(mount.length());
        return rest.isEmpty() || rest.startsWith("/") ? rest : null;
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
    public byte[] body(int max) throws IOException {
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(max + 1);
            if (body.length > max) {
                throw new BodyTooLargeException(max);
            }
            return body;
        }
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
