package dev.pgqueue.examples.imagegen;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.awt.image.BufferedImage;
import java.util.Locale;

/**
 * The outputs of a pack: each source image becomes one asset per variant. In JSON and in
 * {@code assets.variant} a variant is its lower-case name. None enlarges its source.
 */
public enum Variant {
    /** PNG fitting in 160 × 160. */
    @JsonProperty("thumbnail") THUMBNAIL("png"),
    /** PNG of the centre square, 512 × 512. */
    @JsonProperty("square") SQUARE("png"),
    /** JPEG (quality 0.85) fitting in 1280 × 1280. */
    @JsonProperty("web") WEB("jpeg"),
    /** PNG fitting in 1024 × 1024 with {@value #WATERMARK} in its corner. */
    @JsonProperty("watermarked") WATERMARKED("png");

    static final String WATERMARK = "pgqueue demo";

    private final String format;

    Variant(String format) {
        this.format = format;
    }

    /** The name stored in {@code assets.variant} and used in JSON. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The format of this variant's assets: {@code png} or {@code jpeg}. */
    public String format() {
        return format;
    }

    /** Renders this variant of a decoded source image. */
    Images.Encoded render(BufferedImage source) {
        BufferedImage image = switch (this) {
            case THUMBNAIL -> Images.fit(source, 160);
            case SQUARE -> Images.squareCrop(source, 512);
            case WEB -> Images.fit(source, 1280);
            case WATERMARKED -> Images.watermark(Images.fit(source, 1024), WATERMARK);
        };
        return Images.encode(image, format);
    }

    /** The variant stored as {@code id}. */
    static Variant of(String id) {
        return valueOf(id.toUpperCase(Locale.ROOT));
    }
}
