/**
 * pgqueue's web dashboard on the admin API: {@link dev.pgqueue.dashboard.Dashboard} (mount it on the
 * JDK's {@code HttpServer}), {@link dev.pgqueue.dashboard.DashboardServlet} (for a servlet container),
 * {@link dev.pgqueue.dashboard.DashboardServer} (stand-alone), and the
 * {@link dev.pgqueue.dashboard.Authorizer} that decides who may act.
 */
package dev.pgqueue.dashboard;
