package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.List;
import java.util.Map;

/** Reading a generic resource's fields (plain maps and lists) in tests. */
public final class GenericFields {
  private GenericFields() {}

  /** The value at {@code keys} under the resource's top level (spec, status). */
  public static Object path(GenericKubernetesResource resource, String... keys) {
    return path(resource.getAdditionalProperties(), keys);
  }

  public static Object path(Map<String, Object> map, String... keys) {
    Object at = map;
    for (String key : keys) {
      at = map(at).get(key);
    }
    return at;
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  public static List<Object> list(Object value) {
    return (List<Object>) value;
  }
}
