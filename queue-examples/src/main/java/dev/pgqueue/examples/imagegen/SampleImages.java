package dev.pgqueue.examples.imagegen;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Random;

/**
 * Source images for the demo and the page, drawn here so that the example needs no files and no
 * network: a gradient sky, a sun and some hills, the same for the same seed.
 */
final class SampleImages {

    /** A sample to draw: its file name, size, format and seed. */
    record Sample(String fileName, int width, int height, String format, long seed) {}

    /** The demo's and the page's samples: landscape, portrait, panorama and square, PNG and JPEG. */
    static final List<Sample> SAMPLES = List.of(
            new Sample("harbour.png", 1600, 1200, "png", 1),
            new Sample("tower.jpg", 900, 1200, "jpeg", 2),
            new Sample("valley.png", 2400, 1000, "png", 3),
            new Sample("garden.jpg", 1000, 1000, "jpeg", 4));

    private SampleImages() {}

    /** The encoded bytes of {@code sample}. */
    static byte[] bytes(Sample sample) {
        return Images.encode(draw(sample.width(), sample.height(), sample.seed()), sample.format()).bytes();
    }

    /** A picture of {@code width} × {@code height}, the same for the same seed. */
    static BufferedImage draw(int width, int height, long seed) {
        Random random = new Random(seed * 0x9E3779B97F4A7C15L); // spread: nearby seeds give alike first draws
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            float hue = random.nextFloat();
            g.setPaint(new GradientPaint(0, 0, Color.getHSBColor(hue, 0.6f, 0.9f),
                    0, height * 0.7f, Color.getHSBColor((hue + 0.12f) % 1, 0.3f, 1f)));
            g.fillRect(0, 0, width, height);
            int sun = Math.max(2, Math.min(width, height) / 6);
            g.setColor(new Color(255, 240, 170));
            g.fillOval(random.nextInt(Math.max(1, width - sun)), height / 10 + random.nextInt(Math.max(1, height / 5)), sun, sun);
            for (int hill = 0; hill < 3; hill++) { // far to near: higher, paler, wider
                g.setColor(Color.getHSBColor((hue + 0.45f + hill * 0.04f) % 1, 0.35f + hill * 0.15f, 0.75f - hill * 0.2f));
                int top = height * (9 + 3 * hill) / 20 + random.nextInt(Math.max(1, height / 12));
                int radius = width * (3 - hill) / 3 + width / 4;
                int centre = random.nextInt(Math.max(1, width));
                g.fillOval(centre - radius, top, 2 * radius, 2 * height);
            }
            g.setColor(new Color(255, 255, 255, 90));
            g.setStroke(new BasicStroke(Math.max(1, width / 300f)));
            g.drawRect(0, 0, width - 1, height - 1);
        } finally {
            g.dispose();
        }
        return image;
    }
}
