package io.sparserollout.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.sparserollout.api.v1alpha1.SparseModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/** SparseModels as the API server returns them (schema defaults applied), for unit tests. */
public final class Fixtures {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private Fixtures() {}

  public static SparseModel minilm() {
    return minilm(spec -> {});
  }

  /** A copy of {@code model} whose spec is edited as JSON (records cannot be edited in place). */
  public static SparseModel withSpec(SparseModel model, Consumer<ObjectNode> editSpec) {
    JsonNode tree = SERIALIZATION.convertValue(model, JsonNode.class);
    editSpec.accept((ObjectNode) tree.get("spec"));
    return SERIALIZATION.convertValue(tree, SparseModel.class);
  }

  /** The defaulted sample with an edit applied to its spec as JSON. */
  public static SparseModel minilm(Consumer<ObjectNode> editSpec) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/minilm-defaulted.yaml")) {
      JsonNode tree = SERIALIZATION.unmarshal(in, JsonNode.class);
      editSpec.accept((ObjectNode) tree.get("spec"));
      return SERIALIZATION.convertValue(tree, SparseModel.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
