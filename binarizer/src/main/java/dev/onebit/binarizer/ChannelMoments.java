package dev.onebit.binarizer;

import dev.onebit.runtime.Value;

/**
 * Per-channel first and second moments of one value (y), or of a pair of values of the same
 * shape (y, s) with their cross moment, accumulated over batch and spatial positions in double.
 * Merging partial moments in a fixed order keeps calibration deterministic however its batches
 * were scheduled.
 */
final class ChannelMoments {
    final int channels;
    long count;
    final double[] sumY;
    final double[] sumYY;
    final double[] sumS;
    final double[] sumSS;
    final double[] sumYS;

    ChannelMoments(int channels, boolean pair) {
        this.channels = channels;
        sumY = new double[channels];
        sumYY = new double[channels];
        sumS = pair ? new double[channels] : null;
        sumSS = pair ? new double[channels] : null;
        sumYS = pair ? new double[channels] : null;
    }

    /** Moments of y (and s, when given) with channels on {@code axis}. */
    static ChannelMoments of(Value y, Value s, int axis) {
        int c = y.shape[axis];
        int outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= y.shape[d];
        }
        int inner = y.size() / Math.max(1, outer * c);
        ChannelMoments m = new ChannelMoments(c, s != null);
        m.count = (long) outer * inner;
        for (int o = 0; o < outer; o++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (o * c + ch) * inner;
                double sy = 0;
                double syy = 0;
                double ss = 0;
                double sss = 0;
                double sys = 0;
                for (int i = 0; i < inner; i++) {
                    double a = y.floats[base + i];
                    sy += a;
                    syy += a * a;
                    if (s != null) {
                        double b = s.floats[base + i];
                        ss += b;
                        sss += b * b;
                        sys += a * b;
                    }
                }
                m.sumY[ch] += sy;
                m.sumYY[ch] += syy;
                if (s != null) {
                    m.sumS[ch] += ss;
                    m.sumSS[ch] += sss;
                    m.sumYS[ch] += sys;
                }
            }
        }
        return m;
    }

    /** Adds another batch's moments (same channels and pairing). */
    void add(ChannelMoments o) {
        count += o.count;
        for (int c = 0; c < channels; c++) {
            sumY[c] += o.sumY[c];
            sumYY[c] += o.sumYY[c];
            if (sumS != null) {
                sumS[c] += o.sumS[c];
                sumSS[c] += o.sumSS[c];
                sumYS[c] += o.sumYS[c];
            }
        }
    }

    double meanY(int c) {
        return sumY[c] / count;
    }

    /** Population variance of y in channel c (never negative). */
    double varY(int c) {
        double m = meanY(c);
        return Math.max(0, sumYY[c] / count - m * m);
    }

    double meanS(int c) {
        return sumS[c] / count;
    }

    double varS(int c) {
        double m = meanS(c);
        return Math.max(0, sumSS[c] / count - m * m);
    }

    double covYS(int c) {
        return sumYS[c] / count - meanY(c) * meanS(c);
    }
}
