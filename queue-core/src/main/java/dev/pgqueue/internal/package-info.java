/**
 * The worker runtime and the validation and payload helpers that pgqueue's own modules share. Not an
 * API: exported only to pgqueue's storage and test modules, left out of the Javadoc, and changed
 * without notice.
 */
package dev.pgqueue.internal;
