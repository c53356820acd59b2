package dev.onebit.runtime;

import dev.onebit.ir.Node;

import java.util.List;
import java.util.Set;

/**
 * An executor's nodes in execution order with their kernels, after a fusion
 * ({@link ScaleFusion}, {@link AddFusion}).
 *
 * @param nodes the nodes, fused ones among them
 * @param kernels their kernels
 * @param dropped the graph's values that the schedule no longer computes
 */
record Schedule(List<Node> nodes, List<Kernel> kernels, Set<String> dropped) {
}
