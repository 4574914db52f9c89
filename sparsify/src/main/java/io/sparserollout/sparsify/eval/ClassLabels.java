package io.sparserollout.sparsify.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.OnnxModel;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A classifier's class names, kept in the model's metadata under {@code id2label} (the key and the
 * {"0": "name"} form of a Hugging Face config), and held-out labels read as class indices.
 */
public final class ClassLabels {
  public static final String METADATA_KEY = "id2label";

  /** The class of every label a head was not trained on by name. */
  public static final String OTHER = "other";

  private static final ObjectMapper JSON = new ObjectMapper();

  private ClassLabels() {}

  /** The {@code id2label} value for these names, in class order. */
  public static String id2label(List<String> names) {
    Map<String, String> byId = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      byId.put(String.valueOf(i), names.get(i));
    }
    try {
      return JSON.writeValueAsString(byId);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Name to class index from the model's metadata; empty when the model names no classes. */
  public static Map<String, Integer> names(OnnxModel model) {
    Map<String, Integer> names = new HashMap<>();
    String value = model.metadata(METADATA_KEY).orElse(null);
    if (value == null) {
      return names;
    }
    try {
      JsonNode tree = JSON.readTree(value);
      for (var field : (Iterable<Map.Entry<String, JsonNode>>) tree::fields) {
        names.put(field.getValue().asText(), Integer.parseInt(field.getKey()));
      }
    } catch (java.io.IOException | RuntimeException e) {
      throw new SparsifyException(
          "the dense model's "
              + METADATA_KEY
              + " metadata is not {\"0\": \"name\", ...}: "
              + value);
    }
    return names;
  }

  /**
   * Each label as a class index: a number below {@code classes}, or a name of {@code names}. Where
   * the model has a class {@value #OTHER} (as {@code sparsify head} makes for the rarer labels it
   * was trained on), any other name is that class. Otherwise a label that is neither is refused
   * with its line, since a wrong class would only lower accuracy without a word.
   */
  public static int[] indices(
      List<String> labels, int classes, Map<String, Integer> names, String role) {
    int[] indices = new int[labels.size()];
    for (int i = 0; i < labels.size(); i++) {
      String label = labels.get(i).strip();
      Integer index = names.get(label);
      if (index == null && label.matches("\\d{1,9}")) {
        index = Integer.parseInt(label);
      }
      if (index == null) {
        index = names.get(OTHER);
      }
      if (index == null || index >= classes) {
        throw new SparsifyException(
            role
                + " labels, line "
                + (i + 1)
                + ": '"
                + label
                + "' is neither a class index below "
                + classes
                + (names.isEmpty()
                    ? " (the model has no " + METADATA_KEY + " metadata naming its classes)"
                    : " nor one of the model's classes " + names.keySet()));
      }
      indices[i] = index;
    }
    return indices;
  }
}
