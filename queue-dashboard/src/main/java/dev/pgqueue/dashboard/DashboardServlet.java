package dev.pgqueue.dashboard;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Objects;

/**
 * A {@link Dashboard} as a Jakarta Servlet (6.0), for Spring Boot, Tomcat, Jetty and any other
 * servlet container. Map it to a path with a trailing wildcard, {@code /pgqueue/*}; the dashboard
 * serves everything below it. The container's security (Spring Security, a security constraint)
 * protects the pages; the dashboard's {@link Authorizer} decides on actions and can read the
 * container's request through {@link DashboardRequest#unwrap}.
 *
 * <pre>{@code
 * // Spring Boot
 * @Bean
 * ServletRegistrationBean<DashboardServlet> pgqueueDashboard(JobAdmin admin) {
 *     Dashboard dashboard = Dashboard.builder(admin)
 *             .authorizer(request -> request.unwrap(HttpServletRequest.class)
 *                     .map(servlet -> servlet.isUserInRole("OPS")).orElse(false))
 *             .build();
 *     return new ServletRegistrationBean<>(new DashboardServlet(dashboard), "/pgqueue/*");
 * }
 * }</pre>
 */
public class DashboardServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** Not serializable: a container that serializes servlets gets a fresh one at start. */
    private final transient Dashboard dashboard;

    /**
     * @param dashboard the dashboard to serve
     */
    public DashboardServlet(Dashboard dashboard) {
        this.dashboard = Objects.requireNonNull(dashboard, "dashboard");
    }

    /**
     * Serves every method the dashboard knows (GET, HEAD, POST) and answers 405 to the others.
     *
     * @param request  the request
     * @param response its response
     * @throws IOException if writing the response fails
     */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        dashboard.handler().handle(new ServletExchange(request, response), null);
    }
}
