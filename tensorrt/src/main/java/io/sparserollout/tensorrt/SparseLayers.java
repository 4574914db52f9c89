package io.sparserollout.tensorrt;

import java.util.ArrayList;
import java.util.List;

/**
 * Which layers TensorRT found eligible for sparse math and which it built with a sparse tactic,
 * read from the builder's log (it still picks a dense tactic where that is faster).
 */
public record SparseLayers(List<String> eligible, List<String> picked) {
  private static final String ELIGIBLE = "Layers eligible for sparse math:";
  private static final String PICKED = "picked sparse implementation for layers:";

  public static SparseLayers fromBuilderLog(List<String> messages) {
    List<String> eligible = new ArrayList<>();
    List<String> picked = new ArrayList<>();
    for (String message : messages) {
      collect(message, ELIGIBLE, eligible);
      collect(message, PICKED, picked);
    }
    return new SparseLayers(List.copyOf(eligible), List.copyOf(picked));
  }

  private static void collect(String message, String marker, List<String> into) {
    int at = message.indexOf(marker);
    if (at < 0) {
      return;
    }
    for (String layer : message.substring(at + marker.length()).split(",")) {
      if (!layer.isBlank()) {
        into.add(layer.strip());
      }
    }
  }
}
