package dev.pgqueue.dashboard;

import java.net.InetAddress;
import java.security.Principal;
import java.util.Optional;

/**
 * The HTTP request an {@link Authorizer} decides on: what the dashboard knows of it whichever server
 * hosts it. {@link #unwrap} reaches the host's own request object (the JDK server's
 * {@code com.sun.net.httpserver.HttpExchange}, or a servlet container's
 * {@code jakarta.servlet.http.HttpServletRequest}) for what this interface does not carry, such as a
 * servlet's {@code isUserInRole}.
 */
public interface DashboardRequest {

    /** {@return the HTTP method, upper case} */
    String method();

    /** {@return the path below the dashboard's mount point, starting with {@code /}} */
    String path();

    /**
     * {@return the first value of a request header, or null if it is absent}
     *
     * @param name the header's name, in any case
     */
    String header(String name);

    /** {@return the address of the client (or of the last proxy in front of this server)} */
    InetAddress remoteAddress();

    /** {@return the authenticated user as the host server knows it, or null} */
    Principal principal();

    /**
     * {@return the host server's own request object, if it is of this type}
     *
     * @param type {@code com.sun.net.httpserver.HttpExchange} or
     *             {@code jakarta.servlet.http.HttpServletRequest}
     * @param <T>  the type
     */
    <T> Optional<T> unwrap(Class<T> type);
}
