package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ImagesTest {

    @Nested
    class Probe {

        @Test
        void probe_readsFormatAndSizeFromTheHeader() throws Exception {
            assertThat(Images.probe(Fixtures.image(40, 30, "png", 1))).isEqualTo(new Images.Info("png", 40, 30));
            assertThat(Images.probe(Fixtures.image(30, 40, "jpeg", 2))).isEqualTo(new Images.Info("jpeg", 30, 40));
        }

        @Test
        void probe_acceptsAnImageDamagedAfterItsHeader() throws Exception {
            byte[] png = Fixtures.image(400, 300, "png", 3);

            assertThat(Images.probe(Arrays.copyOf(png, png.length / 2))).isEqualTo(new Images.Info("png", 400, 300));
        }

        @Test
        void probe_rejectsWhatIsNotAnImage() {
            assertThatThrownBy(() -> Images.probe("%PDF-1.7 not an image".getBytes(StandardCharsets.US_ASCII)))
                    .isInstanceOf(BadImageException.class)
                    .hasMessage("not an image: expected PNG, JPEG, GIF or BMP");
            assertThatThrownBy(() -> Images.probe(new byte[0])).isInstanceOf(BadImageException.class);
        }

        @Test
        void probe_rejectsMorePixelsThanTheLimitBeforeDecodingThem() {
            assertThatThrownBy(() -> Images.probe(pngHeader(10_000, 5_000)))
                    .isInstanceOf(BadImageException.class)
                    .hasMessage("image too large: 10000×5000 pixels, the limit is 40 megapixels");
        }
    }

    @Nested
    class Decode {

        @Test
        void decode_truncatedPng_isCorrupt() {
            byte[] png = Fixtures.image(400, 300, "png", 4);

            assertThatThrownBy(() -> Images.decode(Arrays.copyOf(png, png.length / 2)))
                    .isInstanceOf(BadImageException.class)
                    .hasMessageStartingWith("PNG data is corrupt: ");
        }

        @Test
        void decode_truncatedJpeg_isCorrupt_thoughImageIoOnlyWarns() {
            byte[] jpeg = Fixtures.image(400, 300, "jpeg", 5);

            assertThatThrownBy(() -> Images.decode(Arrays.copyOf(jpeg, jpeg.length / 2)))
                    .isInstanceOf(BadImageException.class)
                    .hasMessageStartingWith("JPEG data is corrupt: ");
        }
    }

    @Nested
    class Transform {

        @Test
        void scale_averagesEveryPixel_notJustSomeOfThem() {
            BufferedImage stripes = new BufferedImage(1000, 1000, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 1000; y++) {
                for (int x = 0; x < 1000; x++) {
                    stripes.setRGB(x, y, (x / 4) % 2 == 0 ? 0xFFFFFF : 0x000000);
                }
            }

            BufferedImage small = Images.scale(stripes, 10, 10);

            // One bicubic step samples 4 × 4 source pixels per target pixel, all inside one stripe:
            // pure black or white. Halving first averages every stripe into grey.
            for (int y = 0; y < 10; y++) {
                for (int x = 0; x < 10; x++) {
                    assertThat(new Color(small.getRGB(x, y)).getGreen()).as("pixel %d,%d", x, y).isBetween(100, 155);
                }
            }
        }

        @Test
        void variants_neverEnlargeASmallSource() {
            BufferedImage tiny = SampleImages.draw(12, 9, 6);

            for (Variant variant : Variant.values()) {
                Images.Encoded encoded = variant.render(tiny);
                assertThat(new int[] {encoded.width(), encoded.height()}).as("%s", variant)
                        .containsExactly(variant == Variant.SQUARE ? new int[] {9, 9} : new int[] {12, 9});
            }
        }

        @Test
        void watermark_drawsInTheBottomRightCornerOnly() {
            BufferedImage plain = new BufferedImage(400, 200, BufferedImage.TYPE_INT_RGB);

            BufferedImage marked = Images.watermark(plain, Variant.WATERMARK);

            assertThat(changedPixels(plain, marked, 0, 0, 200, 100)).isZero();
            assertThat(changedPixels(plain, marked, 200, 150, 400, 200)).isGreaterThan(100);
        }

        @Test
        void encode_jpegOfATransparentImage_isOpaque() throws Exception {
            BufferedImage transparent = new BufferedImage(20, 10, BufferedImage.TYPE_INT_ARGB);

            Images.Encoded jpeg = Images.encode(transparent, "jpeg");

            assertThat(Images.probe(jpeg.bytes())).isEqualTo(new Images.Info("jpeg", 20, 10));
            assertThat(new Color(Images.decode(jpeg.bytes()).getRGB(5, 5))).isEqualTo(Color.WHITE);
        }
    }

    private static int changedPixels(BufferedImage a, BufferedImage b, int x0, int y0, int x1, int y1) {
        int changed = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                changed += a.getRGB(x, y) != b.getRGB(x, y) ? 1 : 0;
            }
        }
        return changed;
    }

    /** A PNG signature and IHDR chunk for an 8-bit RGB image of the given size, with no pixel data. */
    private static byte[] pngHeader(int width, int height) throws IOException {
        ByteArrayOutputStream chunk = new ByteArrayOutputStream();
        DataOutputStream ihdr = new DataOutputStream(chunk);
        ihdr.writeBytes("IHDR");
        ihdr.writeInt(width);
        ihdr.writeInt(height);
        ihdr.write(new byte[] {8, 2, 0, 0, 0});
        CRC32 crc = new CRC32();
        crc.update(chunk.toByteArray());
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(png);
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        out.writeInt(13);
        out.write(chunk.toByteArray());
        out.writeInt((int) crc.getValue());
        return png.toByteArray();
    }
}
