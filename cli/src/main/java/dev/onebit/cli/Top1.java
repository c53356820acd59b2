package dev.onebit.cli;

import dev.onebit.cli.data.Dataset;
import dev.onebit.ir.ModelException;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;

import java.util.Arrays;
import java.util.Map;

/** Top-1 accuracy of a classifier: the first output's arg-max per item against the labels. */
record Top1(int correct, int count) {

    double fraction() {
        return count == 0 ? 0 : (double) correct / count;
    }

    static Top1 evaluate(Executor executor, Dataset data, int batchSize) {
        return of(predict(executor, data, batchSize), data);
    }

    /** Scores predicted classes against the data's labels. */
    static Top1 of(int[] predicted, Dataset data) {
        if (!data.hasLabels()) {
            throw new UserError("top-1 needs labels: give --labels FILE (none found beside the data)");
        }
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            if (predicted[i] == data.label(i)) {
                correct++;
            }
        }
        return new Top1(correct, predicted.length);
    }

    /** The arg-max class of the first output for every item, run {@code batchSize} items at a time. */
    static int[] predict(Executor executor, Dataset data, int batchSize) {
        if (!data.hasLabels()) {
            // Fail before spending the time to run the model.
            throw new UserError("top-1 needs labels: give --labels FILE (none found beside the data)");
        }
        String input = executor.graph().inputs().get(0).name();
        int[] predicted = new int[data.count()];
        for (int start = 0; start < data.count(); start += batchSize) {
            int n = Math.min(batchSize, data.count() - start);
            Map<String, Value> out = executor.run(Map.of(input, data.batch(start, n)));
            Value logits = out.values().iterator().next();
            if (!logits.isFloat() || logits.size() % n != 0) {
                throw new ModelException("the model's first output " + Arrays.toString(logits.shape)
                        + " is not one score vector per image");
            }
            int classes = logits.size() / n;
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (logits.floats[i * classes + c] > logits.floats[i * classes + best]) {
                        best = c;
                    }
                }
                predicted[start + i] = best;
            }
        }
        return predicted;
    }
}
