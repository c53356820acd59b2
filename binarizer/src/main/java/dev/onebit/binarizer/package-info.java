/**
 * Binarization of float CNN graphs: named passes over the {@link dev.onebit.ir.Graph} IR that
 * turn Conv, Gemm and MatMul layers into onebit's binary operators, and a label-free
 * calibration that fits the result back to the float network ({@link dev.onebit.binarizer.Calibration}).
 *
 * <p>The operators and their numeric conventions are defined by
 * {@code dev.onebit.runtime.ops.BinaryOps} (domain {@code dev.onebit}, version 1); this package
 * only produces them. What follows are the conventions of the binarizer itself.
 *
 * <h2>Layers</h2>
 * <ul>
 *   <li>A <em>layer</em> is every Conv, Gemm and MatMul node. It can be binarized when its weight
 *       is a constant initializer (Conv input 1, Gemm input B, MatMul input 1) and, for Gemm,
 *       {@code transA = 0} and C (if any) is a constant per-output bias; otherwise it is kept
 *       float and its {@link dev.onebit.binarizer.LayerReport} says why.</li>
 *   <li>Every layer has an <em>effective weight</em> {@code W[o][j]} with the output channel
 *       first: Conv's weight as it is ({@code [O, C/group, kH, kW]}); Gemm's
 *       {@code alpha * B^T} ({@code alpha * B} when {@code transB = 1}); MatMul's constant
 *       {@code [IN, OUT]} transposed to {@code [OUT, IN]}. Gemm's {@code beta * C} becomes the
 *       bias. Grouped and depthwise convs are layers like any other: a row {@code W[o]} spans
 *       {@code C/group x kH x kW}.</li>
 *   <li>"First" layers are those with no other layer upstream (normally the Conv fed from the
 *       graph input); "last" layers those with no other layer downstream (normally the
 *       classifier). {@link dev.onebit.binarizer.KeepFloat#DEFAULT} keeps both real-valued.</li>
 * </ul>
 *
 * <h2>Binary layers</h2>
 * <ul>
 *   <li>A binarized layer becomes one {@code BinaryConv} or {@code BinaryMatMul} node with
 *       B = BIT {@code [K, O, ...]}, alpha = float {@code [K, O]} and the bias, so that
 *       {@code W ≈ sum_k alpha[k][o] * B[k][o]}. Its name is the float node's name and its
 *       output keeps the float node's output name, so a float and a binarized graph can be
 *       compared value by value. Attribute {@code method} is {@code bwn}, {@code xnor},
 *       {@code bireal} or {@code cbd}.</li>
 *   <li>sign(0) = +1 everywhere (weights and activations), as in BinaryOps.</li>
 *   <li>BWN: {@code B = sign(W)}, {@code alpha[o] = mean_j |W[o][j]|} (the least-squares
 *       scale for that B).</li>
 *   <li>CBD: K planes per output channel, ordered by decreasing |alpha|, every alpha &gt; 0
 *       (a negative scale is folded into its plane's signs).</li>
 *   <li>XNOR and Bi-Real binarize the layer's input with a {@code Binarize} node, shared by all
 *       layers that read the same value; see {@link dev.onebit.binarizer.InputBinarizationPass}
 *       for the look-through rule at Relu, Clip and MaxPool.</li>
 *   <li>Bi-Real's real shortcut is an {@code Add} named {@code <layer>/shortcut_add}; its output
 *       takes over the name of the value it extends (the following BatchNormalization's output,
 *       or the layer's own). The branch it adds to is renamed {@code <old name>/body}. See
 *       {@link dev.onebit.binarizer.RealShortcutPass}.</li>
 *   <li>Initializers of a binarized layer are named {@code <layer>.B}, {@code <layer>.alpha},
 *       {@code <layer>.bias} (made unique if taken); float weights no node reads any more are
 *       removed.</li>
 *   <li>The relative weight error of a layer is {@code ||W - Ŵ|| / ||W||} (Frobenius norms,
 *       effective weights); for XNOR and Bi-Real it is the BWN error of the weights alone.</li>
 * </ul>
 */
package dev.onebit.binarizer;
