package dev.onebit.onnx.node;

import java.util.HashMap;
import java.util.Map;

/**
 * Backend node tests whose operators onebit registers but which exercise a feature onebit
 * deliberately does not support. Everything not listed here must pass.
 */
final class SkipList {
    /** onebit computes in float32 and represents integers as int64: no half, bfloat16 or string tensors. */
    static final String ELEMENT_TYPE = "unsupported element type (float16, bfloat16, string)";
    /** Only tensors flow through onebit graphs. */
    static final String NON_TENSOR = "optional/sequence values";
    /** Inference engine: BatchNormalization's running-statistics outputs are training-only. */
    static final String BN_TRAINING = "training-mode BatchNormalization";
    /** Random dropout masks are training-only; training mode with ratio 0 is supported (it is exact). */
    static final String DROPOUT_TRAINING = "training-mode Dropout with a random mask";

    private static final Map<String, String> SKIPS = new HashMap<>();

    static {
        for (String t : new String[] {"BFLOAT16_to_FLOAT", "DOUBLE_to_FLOAT16", "FLOAT16_to_DOUBLE",
                "FLOAT16_to_FLOAT", "FLOAT_to_BFLOAT16", "FLOAT_to_FLOAT16", "FLOAT_to_STRING", "STRING_to_FLOAT"}) {
            SKIPS.put("test_cast_" + t, ELEMENT_TYPE);
            SKIPS.put("test_castlike_" + t + "_expanded", ELEMENT_TYPE);
        }
        SKIPS.put("test_identity_opt", NON_TENSOR);
        SKIPS.put("test_identity_sequence", NON_TENSOR);
        SKIPS.put("test_batchnorm_epsilon_training_mode", BN_TRAINING);
        SKIPS.put("test_batchnorm_example_training_mode", BN_TRAINING);
        for (String t : new String[] {"", "_default", "_default_mask", "_mask"}) {
            SKIPS.put("test_training_dropout" + t, DROPOUT_TRAINING);
        }
    }

    private SkipList() {
    }

    /** Why the test is skipped, or null when it must pass. */
    static String reason(String test) {
        return SKIPS.get(test);
    }
}
