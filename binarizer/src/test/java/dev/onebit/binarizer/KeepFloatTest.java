package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeepFloatTest {

    private static List<String> floatLayers(Graph g, KeepFloat k) {
        List<String> out = new ArrayList<>();
        for (LayerReport l : Binarizer.binarize(g, BinarizeOptions.defaults().withKeepFloat(k)).layers()) {
            if (!l.binarized()) {
                out.add(l.name());
            }
        }
        return out;
    }

    @Test
    void parsesTermsAndNames() {
        assertEquals(KeepFloat.DEFAULT, KeepFloat.parse("default"));
        assertEquals(KeepFloat.DEFAULT, KeepFloat.parse("first, last"));
        assertEquals(KeepFloat.NONE, KeepFloat.parse("none"));
        assertEquals(new KeepFloat(true, false, Set.of("/fc1/Gemm")), KeepFloat.parse("first,/fc1/Gemm"));
        assertThrows(IllegalArgumentException.class, () -> KeepFloat.parse(" , "));
        assertThrows(IllegalArgumentException.class, () -> KeepFloat.parse("none,first"));
    }

    @Test
    void policiesOnPlain() {
        Graph g = Samples.model("plain");
        assertEquals(List.of("/conv1/Conv", "/fc2/Gemm"), floatLayers(g, KeepFloat.DEFAULT));
        assertEquals(List.of("/conv1/Conv"), floatLayers(g, KeepFloat.parse("first")));
        assertEquals(List.of("/fc2/Gemm"), floatLayers(g, KeepFloat.parse("last")));
        assertEquals(List.of(), floatLayers(g, KeepFloat.NONE));
        assertEquals(List.of("/conv2/Conv", "/fc1/Gemm"), floatLayers(g, KeepFloat.parse("/conv2/Conv,/fc1/Gemm")));
        BinarizeResult r = Binarizer.binarize(g, BinarizeOptions.defaults().withKeepFloat(KeepFloat.parse("last,/conv2/Conv")));
        assertEquals("kept float by name", r.layer("/conv2/Conv").keptFloatReason());
        assertEquals("last layer", r.layer("/fc2/Gemm").keptFloatReason());
        assertTrue(r.layer("/conv1/Conv").binarized());
    }

    @Test
    void firstAndLastFollowTheDataPathInAResidualNet() {
        Graph g = Samples.model("resnet");
        Set<String> first = new HashSet<>();
        Set<String> last = new HashSet<>();
        Binarizer.endLayers(g, first, last);
        // The 1x1 projection shortcuts read the stage input, which comes from the stem: not first.
        assertEquals(Set.of("/stem/stem.0/Conv"), first);
        assertEquals(Set.of("/fc/Gemm"), last);
        assertEquals(List.of("/stem/stem.0/Conv", "/fc/Gemm"), floatLayers(g, KeepFloat.DEFAULT));
    }

    @Test
    void unknownNamesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Binarizer.binarize(
                Samples.model("plain"), BinarizeOptions.defaults().withKeepFloat(KeepFloat.parse("/Relu,/nope"))));
        assertTrue(e.getMessage().contains("/Relu") && e.getMessage().contains("/nope"), e.getMessage());
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> BinarizeOptions.of(Method.BWN).withPlanes(2));
        assertThrows(IllegalArgumentException.class, () -> BinarizeOptions.cbd(9));
        assertThrows(IllegalArgumentException.class, () -> BinarizeOptions.cbd(0));
        assertThrows(IllegalArgumentException.class, () -> BinarizeOptions.of(Method.CBD).withScaleActivations(true));
        assertEquals(2, BinarizeOptions.of(Method.CBD).planes());
        assertEquals(Method.BIREAL, Method.parse("BiReal"));
        assertThrows(IllegalArgumentException.class, () -> Method.parse("ternary"));
    }
}
