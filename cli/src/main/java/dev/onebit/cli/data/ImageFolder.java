package dev.onebit.cli.data;

import dev.onebit.ir.ModelException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A folder with one subfolder of images per class, the subfolders' sorted names being the
 * class names (label 0 is the first). Images are converted to the model's channel count
 * (1: luminance, 3: RGB) and resized bilinearly to its height and width.
 */
final class ImageFolder {
    private ImageFolder() {
    }

    static Dataset read(Path root, int[] modelItem, int limit) throws IOException {
        List<Path> classes;
        try (Stream<Path> s = Files.list(root)) {
            classes = s.filter(Files::isDirectory).sorted().toList();
        }
        if (classes.isEmpty()) {
            throw new ModelException(root + ": a data folder needs one subfolder of images per class");
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            try (Stream<Path> s = Files.list(classes.get(c))) {
                for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                    files.add(p);
                    labels.add(c);
                }
            }
        }
        int n = limit > 0 ? Math.min(limit, files.size()) : files.size();
        if (n == 0) {
            throw new ModelException(root + ": no images in the class subfolders");
        }
        int channels = modelItem != null ? modelItem[0] : 1;
        int height = modelItem != null ? modelItem[1] : -1;
        int width = modelItem != null ? modelItem[2] : -1;
        float[] data = null;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            BufferedImage img = ImageIO.read(files.get(i).toFile());
            if (img == null) {
                throw new ModelException(files.get(i) + ": not an image ImageIO can read");
            }
            if (height < 0) {
                height = img.getHeight();
                width = img.getWidth();
            }
            if (data == null) {
                data = new float[n * channels * height * width];
            }
            toChw(img, channels, height, width, data, i * channels * height * width);
            out[i] = labels.get(i);
        }
        List<String> names = classes.stream().map(p -> p.getFileName().toString()).toList();
        return new Dataset(data, new int[] {channels, height, width}, n, out, names);
    }

    private static void toChw(BufferedImage img, int channels, int h, int w, float[] dst, int offset) {
        int sh = img.getHeight();
        int sw = img.getWidth();
        // Gray images are read from the raster: getRGB would put their samples through a
        // linear-gray to sRGB conversion and change every pixel value.
        boolean gray = img.getRaster().getNumBands() == 1 && img.getColorModel().getNumComponents() == 1;
        float grayMax = (1 << img.getColorModel().getComponentSize(0)) - 1;
        float[][] px = new float[4][];
        float[] mixed = new float[3];
        for (int y = 0; y < h; y++) {
            // Pixel centres aligned, as image libraries resize.
            float fy = Math.max(0f, Math.min(sh - 1f, (y + 0.5f) * sh / h - 0.5f));
            int y0 = (int) fy;
            int y1 = Math.min(y0 + 1, sh - 1);
            float wy = fy - y0;
            for (int x = 0; x < w; x++) {
                float fx = Math.max(0f, Math.min(sw - 1f, (x + 0.5f) * sw / w - 0.5f));
                int x0 = (int) fx;
                int x1 = Math.min(x0 + 1, sw - 1);
                float wx = fx - x0;
                px[0] = pixel(img, gray, grayMax, x0, y0);
                px[1] = pixel(img, gray, grayMax, x1, y0);
                px[2] = pixel(img, gray, grayMax, x0, y1);
                px[3] = pixel(img, gray, grayMax, x1, y1);
                for (int k = 0; k < 3; k++) {
                    mixed[k] = (px[0][k] * (1 - wx) + px[1][k] * wx) * (1 - wy) + (px[2][k] * (1 - wx) + px[3][k] * wx) * wy;
                }
                if (channels == 1) {
                    dst[offset + y * w + x] = gray ? mixed[0] : 0.299f * mixed[0] + 0.587f * mixed[1] + 0.114f * mixed[2];
                } else {
                    for (int k = 0; k < channels; k++) {
                        dst[offset + (k * h + y) * w + x] = mixed[Math.min(k, 2)];
                    }
                }
            }
        }
    }

    /** The pixel as three values in [0, 1]: the gray sample three times, or sRGB. */
    private static float[] pixel(BufferedImage img, boolean gray, float grayMax, int x, int y) {
        if (gray) {
            float v = img.getRaster().getSample(x, y, 0) / grayMax;
            return new float[] {v, v, v};
        }
        int argb = img.getRGB(x, y);
        return new float[] {((argb >> 16) & 0xFF) / 255f, ((argb >> 8) & 0xFF) / 255f, (argb & 0xFF) / 255f};
    }
}
