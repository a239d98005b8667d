package dev.pgqueue.examples.imagegen;

/**
 * Bytes that can never become an asset: not an image of a supported format, corrupt, or too large.
 * Retrying the same bytes cannot help, so a job that meets one fails permanently. The message is
 * written for the person who uploaded the image.
 */
final class BadImageException extends Exception {

    BadImageException(String message) {
        super(message);
    }
}
