package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.onnx.OnnxImporter;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;

/** The sample models and Fashion-MNIST subsets, read once per JVM, and top-1 evaluation. */
final class Samples {
    static final float MEAN = 0.2860f;
    static final float STD = 0.3530f;

    private static final Map<String, Object> CACHE = new ConcurrentHashMap<>();

    private Samples() {
    }

    /** The repository's samples folder (tests run with the module folder as working directory). */
    static Path dir() {
        Path p = Path.of("..", "samples").toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("samples folder not found at " + p);
        }
        return p;
    }

    /** {@code plain}, {@code resnet} or {@code vgg}, imported. */
    static Graph model(String name) {
        return (Graph) CACHE.computeIfAbsent("model:" + name, k -> OnnxImporter.read(dir().resolve(name + ".onnx")));
    }

    /** The first {@code n} normalized images of {@code train1k} or {@code test2k}, {@code [n, 1, 28, 28]}. */
    static Value images(String subset, int n) {
        Value all = (Value) CACHE.computeIfAbsent("images:" + subset, k -> readImages(
                dir().resolve("data/fashion-mnist-" + subset + "-images-idx3-ubyte.gz")));
        if (n > all.shape[0]) {
            throw new IllegalArgumentException(subset + " has only " + all.shape[0] + " images");
        }
        int per = all.size() / all.shape[0];
        return Value.ofFloats(new int[] {n, 1, all.shape[2], all.shape[3]}, java.util.Arrays.copyOf(all.floats, n * per));
    }

    /** The labels of {@code subset}. */
    static int[] labels(String subset) {
        return (int[]) CACHE.computeIfAbsent("labels:" + subset, k -> readLabels(
                dir().resolve("data/fashion-mnist-" + subset + "-labels-idx1-ubyte.gz")));
    }

    /** Reads a gzipped IDX3 file of unsigned bytes as {@code (pixel / 255 - MEAN) / STD}, {@code [N, 1, H, W]}. */
    static Value readImages(Path file) {
        try (DataInputStream in = open(file)) {
            expectMagic(in, 0x0803, file);
            int n = in.readInt();
            int h = in.readInt();
            int w = in.readInt();
            byte[] raw = in.readNBytes(n * h * w);
            if (raw.length != n * h * w) {
                throw new IOException(file + " is truncated");
            }
            float[] x = new float[raw.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = ((raw[i] & 0xFF) / 255f - MEAN) / STD;
            }
            return Value.ofFloats(new int[] {n, 1, h, w}, x);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a gzipped IDX1 label file. */
    static int[] readLabels(Path file) {
        try (DataInputStream in = open(file)) {
            expectMagic(in, 0x0801, file);
            int n = in.readInt();
            byte[] raw = in.readNBytes(n);
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = raw[i] & 0xFF;
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream raw = Files.newInputStream(file);
        return new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw)));
    }

    private static void expectMagic(DataInputStream in, int magic, Path file) throws IOException {
        int m = in.readInt();
        if (m != magic) {
            throw new IOException(file + ": IDX magic " + Integer.toHexString(m) + ", expected " + Integer.toHexString(magic));
        }
    }

    /** The first output of {@code g} on {@code images}, batch by batch (batches run in parallel). */
    static Value logits(Graph g, Value images) {
        Executor ex = Executor.create(g);
        String in = g.inputs().get(0).name();
        String out = g.outputs().get(0).name();
        List<Value> batches = Calibration.split(images, 100);
        List<Value> parts = IntStream.range(0, batches.size()).parallel()
                .mapToObj(b -> ex.run(Map.of(in, batches.get(b))).get(out)).toList();
        int per = parts.get(0).size() / parts.get(0).shape[0];
        float[] all = new float[images.shape[0] * per];
        int at = 0;
        for (Value p : parts) {
            System.arraycopy(p.floats, 0, all, at, p.size());
            at += p.size();
        }
        return Value.ofFloats(new int[] {images.shape[0], per}, all);
    }

    /** Top-1 accuracy of {@code g} on the first n images of a subset. */
    static double top1(Graph g, String subset, int n) {
        Value logits = logits(g, images(subset, n));
        int[] labels = labels(subset);
        int classes = logits.shape[1];
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits.floats[i * classes + c] > logits.floats[i * classes + best]) {
                    best = c;
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return correct / (double) n;
    }
}
