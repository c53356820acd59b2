package dev.onebit.cli;

import dev.onebit.cli.data.Dataset;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** The data flags shared by the commands that evaluate a model on images. */
final class DataOptions {
    @Option(names = "--data", paramLabel = "DATA",
            description = "Images: an IDX file (*-images-idx3-ubyte[.gz], labels found beside it), a .npy array, "
                    + "or a folder with one subfolder per class.")
    Path data;

    @Option(names = "--labels", paramLabel = "FILE", description = "Labels (IDX or .npy) when not found beside DATA.")
    Path labels;

    @Option(names = "--mean", split = ",", paramLabel = "M",
            description = "Subtracted after scaling pixels to [0,1]: one value or one per channel.")
    float[] mean;

    @Option(names = "--std", split = ",", paramLabel = "S",
            description = "Divides after --mean: one value or one per channel.")
    float[] std;

    @Option(names = "--limit", paramLabel = "N", description = "Use only the first N images.")
    int limit;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "100",
            description = "Images per run call (default: ${DEFAULT-VALUE}).")
    int batchSize;

    /**
     * Loads DATA for the model, or returns null when no --data was given. Without --mean/--std,
     * a container's recorded preprocessing is used.
     */
    Dataset load(ModelFile model) throws IOException {
        return load(data, model, limit);
    }

    /** Loads {@code source} with these flags (and the model's recorded preprocessing as default). */
    Dataset load(Path source, ModelFile model, int limitImages) throws IOException {
        if (source == null) {
            return null;
        }
        if (limitImages < 0) {
            throw new UserError("--limit must not be negative");
        }
        if (batchSize < 1) {
            throw new UserError("--batch-size must be at least 1");
        }
        float[] m = mean != null ? mean : model.metadataFloats(ModelFile.META_MEAN);
        float[] sd = std != null ? std : model.metadataFloats(ModelFile.META_STD);
        return Dataset.load(source, source.equals(data) ? labels : null, m, sd, limitImages, model.itemShape());
    }
}
