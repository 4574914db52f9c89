package io.sparserollout.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Properties of the generated schema that make the API usable from kubectl. */
class CrdSchemaTest {
  private final CustomResourceDefinition crd = CrdGeneration.generate();
  private final JSONSchemaProps root =
      crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();

  @Test
  void everyFieldIsDescribedForKubectlExplain() {
    List<String> undescribed = new ArrayList<>();
    collectUndescribed(root, "", undescribed);

    assertThat(undescribed).as("fields without a description").isEmpty();
  }

  @Test
  void printerColumnsComeInTheOrderUsersRead() {
    assertThat(crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns())
        .extracting(CustomResourceColumnDefinition::getName)
        .containsExactly("Phase", "Sparsity", "Metric Δ", "Variant", "Speed-up", "Canary", "Age");
  }

  @Test
  void namespacedWithShortNameAndStatusSubresource() {
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactly("sm");
    assertThat(crd.getSpec().getVersions().get(0).getSubresources().getStatus()).isNotNull();
  }

  private static void collectUndescribed(JSONSchemaProps node, String path, List<String> out) {
    if (node.getProperties() != null) {
      node.getProperties()
          .forEach(
              (name, child) -> {
                String childPath = path + "." + name;
                if (child.getDescription() == null || child.getDescription().isBlank()) {
                  out.add(childPath);
                }
                collectUndescribed(child, childPath, out);
              });
    }
    if (node.getItems() != null && node.getItems().getSchema() != null) {
      collectUndescribed(node.getItems().getSchema(), path + "[]", out);
    }
  }
}
