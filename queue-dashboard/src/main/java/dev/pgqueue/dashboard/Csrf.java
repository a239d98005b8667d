package dev.pgqueue.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Cross-site request forgery protection for every action, two independent checks:
 * <ul>
 *   <li>the request's {@code Origin} (or, without it, its {@code Referer}) must name the host the
 *       request was sent to ({@code Host}): a page on another site cannot pass, and a request with
 *       neither header is refused;</li>
 *   <li>the form must carry the token the dashboard wrote into its pages: an HMAC, under a key this
 *       dashboard drew at start, of a random value it keeps in an HttpOnly, SameSite=Strict cookie.
 *       Another site can neither read the token nor choose the cookie to match.</li>
 * </ul>
 */
final class Csrf {

    static final String COOKIE = "pgqueue_csrf";
    static final String FIELD = "csrf";

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private final SecureRandom random = new SecureRandom();
    private final byte[] key = new byte[32];

    Csrf() {
        random.nextBytes(key);
    }

    /** A fresh cookie value. */
    String newCookie() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return B64.encodeToString(bytes);
    }

    /** The token that pages put in their forms for the client holding {@code cookie}. */
    String token(String cookie) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return B64.encodeToString(mac.doFinal(cookie.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** Whether {@code token} is the one issued for {@code cookie}. */
    boolean valid(String cookie, String token) {
        if (cookie == null || token == null || !cookie.matches("[A-Za-z0-9_-]{32}")) {
            return false;
        }
        return MessageDigest.isEqual(token(cookie).getBytes(StandardCharsets.US_ASCII),
                token.getBytes(StandardCharsets.US_ASCII));
    }

    /** The dashboard's cookie in a {@code Cookie} header, or null. */
    static String cookie(String header) {
        if (header == null) {
            return null;
        }
        for (String part : header.split(";")) {
            String p = part.strip();
            if (p.startsWith(COOKIE + "=")) {
                return p.substring(COOKIE.length() + 1);
            }
        }
        return null;
    }

    /**
     * Why the request is not same-origin, or null if it is: its {@code Origin} (else {@code Referer})
     * must have the authority (host and port) of its {@code Host}.
     */
    static String crossOrigin(String host, String origin, String referer) {
        if (host == null || host.isBlank()) {
            return "the request names no Host";
        }
        String source = origin != null ? origin : referer;
        if (source == null || source.equals("null")) {
            return "the request has neither an Origin nor a Referer header";
        }
        String authority = authority(source);
        if (authority == null || !authority.equals(host.strip().toLowerCase(Locale.ROOT))) {
            return "the request comes from another origin";
        }
        return null;
    }

    /** {@code host[:port]} of {@code scheme://host[:port][/…]}, lower case, or null. */
    private static String authority(String url) {
        int scheme = url.indexOf("://");
        if (scheme < 0) {
            return null;
        }
        String rest = url.substring(scheme + 3);
        int end = rest.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int i = rest.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        String authority = rest.substring(0, end).toLowerCase(Locale.ROOT);
        return authority.contains("@") ? null : authority;
    }
}
