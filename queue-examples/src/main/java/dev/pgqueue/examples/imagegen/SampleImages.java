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
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            float hue = random.nextFloat();
            g.setPaint(new GradientPaint(0, 0, Color.getHSBColor(hue, 0.55f, 0.95f),
                    0, height, Color.getHSBColor((hue + 0.15f) % 1, 0.35f, 1f)));
            g.fillRect(0, 0, width, height);
            int sun = Math.max(2, Math.min(width, height) / 5);
            g.setColor(new Color(255, 236, 150));
            g.fillOval(random.nextInt(Math.max(1, width - sun)), height / 8, sun, sun);
            for (int hill = 0; hill < 3; hill++) {
                g.setColor(Color.getHSBColor((hue + 0.3f + hill * 0.05f) % 1, 0.5f, 0.35f + hill * 0.15f));
                int top = height / 2 + hill * height / 8 + random.nextInt(Math.max(1, height / 10));
                int bump = Math.max(2, width / (2 + hill));
                g.fillOval(random.nextInt(Math.max(1, width)) - bump / 2, top, bump * 2, height);
                g.fillRect(0, top + height / 6, width, height);
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
