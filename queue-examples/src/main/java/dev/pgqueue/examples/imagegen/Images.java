package dev.pgqueue.examples.imagegen;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;

/**
 * The image work, with the JDK alone ({@code javax.imageio}, {@code java.awt} in headless mode):
 * sniff, decode, scale with good quality, crop, watermark, encode. Deterministic for a given JDK and
 * its fonts; thread-safe (no shared state).
 */
final class Images {

    /** The formats accepted as sources, as {@code source_images.format} stores them. */
    static final Set<String> FORMATS = Set.of("png", "jpeg", "gif", "bmp");

    /** Larger sources are refused before their pixels are decoded (a 40 MP image needs 160 MB). */
    static final long MAX_PIXELS = 40_000_000;

    private static final float JPEG_QUALITY = 0.85f;

    static {
        System.setProperty("java.awt.headless", "true");
        ImageIO.setUseCache(false); // decode in memory, not through temporary files
    }

    /** What the header of an image says. */
    record Info(String format, int width, int height) {}

    /** An encoded image. */
    record Encoded(String format, int width, int height, byte[] bytes) {}

    private Images() {}

    /**
     * Reads only the header: cheap enough for an upload request, and enough to refuse what is not an
     * image or too large. Corruption further in is found by {@link #decode} in the worker.
     */
    static Info probe(byte[] bytes) throws BadImageException {
        return withReader(bytes, (reader, format) -> {
            Info info = new Info(format, reader.getWidth(0), reader.getHeight(0));
            checkSize(info);
            return info;
        });
    }

    /**
     * Decodes a whole image. ImageIO only warns about some damage (a truncated JPEG comes back
     * padded with grey); those warnings count as corruption here.
     */
    static BufferedImage decode(byte[] bytes) throws BadImageException {
        return withReader(bytes, (reader, format) -> {
            checkSize(new Info(format, reader.getWidth(0), reader.getHeight(0)));
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            BufferedImage image = reader.read(0);
            if (!warnings.isEmpty()) {
                throw new BadImageException(label(format) + " data is corrupt: " + warnings.get(0));
            }
            return image;
        });
    }

    /** {@code image} scaled to fit within {@code maxSide} × {@code maxSide}, keeping its aspect; never enlarged. */
    static BufferedImage fit(BufferedImage image, int maxSide) {
        int width = image.getWidth();
        int height = image.getHeight();
        if (width <= maxSide && height <= maxSide) {
            return image;
        }
        double scale = (double) maxSide / Math.max(width, height);
        return scale(image, Math.max(1, (int) Math.round(width * scale)), Math.max(1, (int) Math.round(height * scale)));
    }

    /** The centre square of {@code image}, scaled to {@code maxSide} (or its shorter side, if smaller). */
    static BufferedImage squareCrop(BufferedImage image, int maxSide) {
        int side = Math.min(image.getWidth(), image.getHeight());
        BufferedImage square = image.getSubimage((image.getWidth() - side) / 2, (image.getHeight() - side) / 2, side, side);
        int target = Math.min(side, maxSide);
        return scale(square, target, target);
    }

    /** A copy of {@code image} with {@code text} in its bottom-right corner, sized to the image. */
    static BufferedImage watermark(BufferedImage image, String text) {
        BufferedImage copy = draw(image, image.getWidth(), image.getHeight(), RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        Graphics2D g = copy.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(10, copy.getWidth() / 20)));
            FontMetrics metrics = g.getFontMetrics();
            int margin = Math.max(4, copy.getWidth() / 50);
            int x = copy.getWidth() - metrics.stringWidth(text) - margin;
            int y = copy.getHeight() - metrics.getDescent() - margin;
            g.setColor(new Color(0, 0, 0, 120));
            g.drawString(text, x + 2, y + 2);
            g.setColor(new Color(255, 255, 255, 200));
            g.drawString(text, x, y);
        } finally {
            g.dispose();
        }
        return copy;
    }

    /** Encodes {@code image} as PNG, or as JPEG (quality 0.85, on white where it was transparent). */
    static Encoded encode(BufferedImage image, String format) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            switch (format) {
                case "png" -> ImageIO.write(image, "png", bytes);
                case "jpeg" -> writeJpeg(opaque(image), bytes);
                default -> throw new IllegalArgumentException("expected format to be png or jpeg, got: " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode a " + format + " image", e); // in memory: a bug
        }
        return new Encoded(format, image.getWidth(), image.getHeight(), bytes.toByteArray());
    }

    /**
     * Scales in steps: halving with bilinear filtering while the image is more than twice the target,
     * then one bicubic step. A one-step downscale by a large factor skips pixels and aliases; halving
     * averages every pixel into the result.
     */
    static BufferedImage scale(BufferedImage image, int width, int height) {
        BufferedImage current = image;
        while (current.getWidth() / 2 >= width && current.getHeight() / 2 >= height) {
            current = draw(current, current.getWidth() / 2, current.getHeight() / 2,
                    RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        }
        return draw(current, width, height, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    }

    private static BufferedImage draw(BufferedImage image, int width, int height, Object interpolation) {
        int type = image.getColorModel().hasAlpha() ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB;
        BufferedImage out = new BufferedImage(width, height, type);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    private static BufferedImage opaque(BufferedImage image) {
        if (!image.getColorModel().hasAlpha()) {
            return image;
        }
        BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.drawImage(image, 0, 0, Color.WHITE, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    private static void writeJpeg(BufferedImage image, ByteArrayOutputStream bytes) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(JPEG_QUALITY);
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
    }

    private static void checkSize(Info info) throws BadImageException {
        if ((long) info.width() * info.height() > MAX_PIXELS) {
            throw new BadImageException("image too large: " + info.width() + "×" + info.height()
                    + " pixels, the limit is " + MAX_PIXELS / 1_000_000 + " megapixels");
        }
    }

    private interface ReaderWork<T> {
        T apply(ImageReader reader, String format) throws IOException, BadImageException;
    }

    /** Runs {@code work} with a reader for the first supported format that recognises the bytes. */
    private static <T> T withReader(byte[] bytes, ReaderWork<T> work) throws BadImageException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            while (readers.hasNext()) {
                ImageReader reader = readers.next();
                String format = reader.getFormatName().toLowerCase(Locale.ROOT).replace("jpg", "jpeg");
                if (!FORMATS.contains(format)) {
                    reader.dispose();
                    continue;
                }
                try {
                    reader.setInput(in, true, true);
                    return work.apply(reader, format);
                } catch (IOException | RuntimeException e) {
                    // ImageIO reports damage as IIOException, and sometimes as a runtime exception
                    // from deep inside a decoder (an ArrayIndexOutOfBounds on a crafted GIF).
                    throw new BadImageException(label(format) + " data is corrupt: " + describe(e));
                } finally {
                    reader.dispose();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read image bytes from memory", e);
        }
        throw new BadImageException("not an image: expected PNG, JPEG, GIF or BMP");
    }

    private static String label(String format) {
        return format.toUpperCase(Locale.ROOT);
    }

    private static String describe(Exception e) {
        String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        Throwable cause = e.getCause();
        return cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())
                ? message + " (" + cause.getMessage() + ")"
                : message;
    }
}
