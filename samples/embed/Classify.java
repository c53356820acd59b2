import dev.onebit.Model;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Classifies Fashion-MNIST images with a {@code .bnn} container, using nothing but onebit's
 * runtime jar and zstd-jni: the smallest program that embeds onebit.
 *
 * <p>Run from the repository root (Java 17+ runs a single source file directly; on JDK 25 the
 * flags enable the Vector API kernels and silence zstd-jni's native-access warning):
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp runtime/target/onebit-runtime-0.1.0-SNAPSHOT.jar:$HOME/.m2/repository/com/github/luben/zstd-jni/1.5.7-4/zstd-jni-1.5.7-4.jar \
 *      samples/embed/Classify.java vgg.bnn [IMAGES-idx3-ubyte.gz [COUNT]]
 * </pre>
 *
 * <p>It prints one line per image ({@code image 3: class 1 Trouser (p=0.99), label 1}) and the
 * number of correct predictions when the labels file lies beside the images.
 */
public class Classify {
    /** Fashion-MNIST's classes, for containers that do not record their labels. */
    private static final List<String> FASHION = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 3) {
            System.err.println("usage: Classify MODEL.bnn [IMAGES-idx3-ubyte.gz [COUNT]]");
            System.exit(2);
        }
        Path images = Path.of(args.length > 1 ? args[1] : "samples/data/fashion-mnist-test2k-images-idx3-ubyte.gz");
        int count = args.length > 2 ? Integer.parseInt(args[2]) : 8;

        try (Model model = Model.load(Path.of(args[0]))) {
            int[] shape = model.inputShape();          // [1, 28, 28]: one image, channels first
            float[] mean = model.mean();               // recorded by `onebit convert --mean`
            float[] std = model.std();
            List<String> names = model.classLabels().isEmpty() ? FASHION : model.classLabels();
            System.out.printf("%s: %s %s -> %s %s%n", args[0], model.inputName(), java.util.Arrays.toString(shape),
                    model.outputName(), java.util.Arrays.toString(model.outputShape()));

            byte[][] pixels = readIdx(images, 0x803, count);
            int[] labels = readLabels(images, pixels.length);
            float[][] batch = new float[pixels.length][];
            for (int i = 0; i < pixels.length; i++) {
                batch[i] = normalise(pixels[i], shape[0], mean, std);
            }
            float[][] logits = model.run(batch);       // one call for the whole batch

            int correct = 0;
            for (int i = 0; i < logits.length; i++) {
                int best = argmax(logits[i]);
                correct += labels != null && labels[i] == best ? 1 : 0;
                System.out.printf("image %d: class %d %s (p=%.2f)%s%n", i, best,
                        best < names.size() ? names.get(best) : "?", softmax(logits[i])[best],
                        labels == null ? "" : ", label " + labels[i]);
            }
            if (labels != null) {
                System.out.printf("%d of %d correct%n", correct, logits.length);
            }
        }
    }

    /** {@code (pixel / 255 - mean[c]) / std[c]}, as the model was trained; identity without recorded values. */
    private static float[] normalise(byte[] pixels, int channels, float[] mean, float[] std) {
        float[] x = new float[pixels.length];
        int plane = pixels.length / channels;
        for (int i = 0; i < x.length; i++) {
            int c = i / plane;
            float m = mean.length == 0 ? 0f : mean[Math.min(c, mean.length - 1)];
            float s = std.length == 0 ? 1f : std[Math.min(c, std.length - 1)];
            x[i] = ((pixels[i] & 0xFF) / 255f - m) / s;
        }
        return x;
    }

    /** The labels beside an images file by the MNIST naming, or null when there are none. */
    private static int[] readLabels(Path images, int count) throws IOException {
        Path labels = images.resolveSibling(images.getFileName().toString().replace("images-idx3", "labels-idx1"));
        if (labels.equals(images) || !Files.exists(labels)) {
            return null;
        }
        byte[][] items = readIdx(labels, 0x801, count);
        int[] out = new int[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = items[i][0] & 0xFF;
        }
        return out;
    }

    /** The first {@code limit} items of a gzipped IDX file of unsigned bytes (magic 0x801 or 0x803). */
    private static byte[][] readIdx(Path file, int magic, int limit) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new GZIPInputStream(raw))) {
            if (in.readInt() != magic) {
                throw new IOException(file + ": not an IDX file of the expected kind");
            }
            int n = in.readInt();
            int per = 1;
            for (int d = 1; d < (magic & 0xFF); d++) {
                per *= in.readInt();
            }
            byte[][] items = new byte[Math.min(n, limit)][per];
            for (byte[] item : items) {
                in.readFully(item);
            }
            return items;
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static float[] softmax(float[] v) {
        float max = v[argmax(v)];
        float[] p = new float[v.length];
        float sum = 0;
        for (int i = 0; i < v.length; i++) {
            p[i] = (float) Math.exp(v[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < v.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
