package io.sparserollout.sparsify.head;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The classes a head is trained on: the {@code keep} most frequent labels (ties by name), and
 * {@code other} for every rarer label when there are any, so that no sentence is left out.
 */
public record ClassChoice(List<String> names, int[] classes) {
  public static final String OTHER = io.sparserollout.sparsify.eval.ClassLabels.OTHER;

  public static ClassChoice of(List<String> labels, int keep) {
    Map<String, Integer> counts = new HashMap<>();
    labels.forEach(l -> counts.merge(l, 1, Integer::sum));
    List<String> names =
        new ArrayList<>(
            counts.keySet().stream()
                .filter(l -> !l.equals(OTHER))
                .sorted(
                    Comparator.comparing((String l) -> -counts.get(l))
                        .thenComparing(Comparator.naturalOrder()))
                .limit(keep)
                .toList());
    if (names.size() < counts.size()) {
      names.add(OTHER);
    }
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      index.put(names.get(i), i);
    }
    int[] classes = new int[labels.size()];
    for (int i = 0; i < classes.length; i++) {
      classes[i] = index.getOrDefault(labels.get(i), names.size() - 1);
    }
    return new ClassChoice(List.copyOf(names), classes);
  }
}
