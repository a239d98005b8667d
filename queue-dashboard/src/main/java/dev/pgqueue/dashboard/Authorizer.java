package dev.pgqueue.dashboard;

/**
 * Decides whether a request may change anything (retry, cancel, delete, run now, pause, resume, edit
 * a payload). Reading pages is not its business: protect the mount point with the host server's own
 * authentication. There is no default: a {@link Dashboard} built without an authorizer refuses every
 * action, and shows none.
 *
 * <p>Called on the request's thread, once per action, after the dashboard checked the request's
 * origin and CSRF token; it must be thread-safe and should return quickly. An exception it throws
 * refuses the action.
 *
 * <pre>{@code
 * Authorizer ops = request -> request.unwrap(HttpServletRequest.class)
 *         .map(servlet -> servlet.isUserInRole("ops"))
 *         .orElse(false);
 * }</pre>
 */
@FunctionalInterface
public interface Authorizer {

    /**
     * {@return whether {@code request} may perform the action it asks for}
     *
     * @param request the action's request; {@link DashboardRequest#path()} names the action
     *                ({@code /actions/retry}, …)
     */
    boolean allowsActions(DashboardRequest request);

    /**
     * {@return an authorizer that allows actions from this machine only (the request's remote address
     * is a loopback address)}: the explicit opt-in for a dashboard that only people on this machine can
     * reach, such as the stand-alone server bound to 127.0.0.1. Behind a reverse proxy on the same
     * machine every request comes from loopback, so do not use it there.
     */
    static Authorizer loopbackOnly() {
        return request -> request.remoteAddress() != null && request.remoteAddress().isLoopbackAddress();
    }
}
