package dev.pgqueue.spring;

import dev.pgqueue.Worker;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.dashboard.Authorizer;
import dev.pgqueue.dashboard.Dashboard;
import dev.pgqueue.dashboard.DashboardServlet;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;

/**
 * Mounts pgqueue's dashboard ({@code queue-dashboard}) in the application's servlet container when
 * {@code pgqueue.dashboard.enabled=true}, at {@code pgqueue.dashboard.path} (default {@code /pgqueue}),
 * over the {@link JobAdmin} bean, showing the worker's health. Actions need an {@link Authorizer} bean
 * (without one the dashboard is read-only) and are off altogether with
 * {@code pgqueue.dashboard.read-only=true}; the application's own security (Spring Security) protects the
 * pages.
 */
@AutoConfiguration(after = PgQueueAutoConfiguration.class)
@ConditionalOnClass(name = {"dev.pgqueue.dashboard.DashboardServlet",
        "org.springframework.boot.web.servlet.ServletRegistrationBean"})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnProperty(prefix = "pgqueue.dashboard", name = "enabled", havingValue = "true")
@ConditionalOnBean(JobAdmin.class)
public class PgQueueDashboardAutoConfiguration {

    /** Creates the configuration; Spring Boot does. */
    public PgQueueDashboardAutoConfiguration() {
    }

    /**
     * The dashboard's servlet, mapped to {@code <path>/*}.
     *
     * @param admin the admin API the dashboard reads and acts through
     * @param properties the {@code pgqueue.*} properties
     * @param authorizer the application's authorizer of actions, if it declares one
     * @param worker the auto-configured worker, if any, whose health the dashboard shows
     * @return the servlet's registration
     */
    @Bean
    public ServletRegistrationBean<DashboardServlet> pgqueueDashboard(JobAdmin admin, PgQueueProperties properties,
            ObjectProvider<Authorizer> authorizer, ObjectProvider<Worker> worker) {
        PgQueueProperties.DashboardProperties options = properties.getDashboard();
        String path = options.getPath();
        if (path == null || !path.matches("(/[A-Za-z0-9._~-]+)+")) {
            throw new InvalidConfigurationPropertyValueException(
                    PgQueueProperties.PREFIX + ".dashboard.path", path,
                    "expected pgqueue.dashboard.path to be a path such as /pgqueue (segments of letters, digits, . _ ~ -), got: "
                            + path);
        }
        Dashboard.Builder dashboard = Dashboard.builder(admin).readOnly(options.isReadOnly());
        authorizer.ifAvailable(dashboard::authorizer);
        worker.ifAvailable(w -> dashboard.health(w.workerId(), w::health));
        ServletRegistrationBean<DashboardServlet> registration =
                new ServletRegistrationBean<>(new DashboardServlet(dashboard.build()), path + "/*");
        registration.setName("pgqueueDashboard");
        return registration;
    }
}
