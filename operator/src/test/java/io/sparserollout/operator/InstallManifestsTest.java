package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hardening the install promises, checked on the manifests users apply. */
class InstallManifestsTest {
  private static final Path MANIFESTS = Path.of(System.getProperty("manifests.dir"));
  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  @Test
  void operatorContainerIsHardened() throws Exception {
    Deployment deployment = find(load("base/operator.yaml"), Deployment.class);
    var pod = deployment.getSpec().getTemplate().getSpec();
    Container container = pod.getContainers().get(0);

    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getServiceAccountName()).isEqualTo("sparserollout-operator");
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
  }

  @Test
  void clusterRoleNeverGrantsWritesToSpecOrWildcards() throws Exception {
    ClusterRole role = find(load("base/rbac.yaml"), ClusterRole.class);

    assertThat(role.getRules())
        .allSatisfy(
            rule -> {
              assertThat(rule.getVerbs()).doesNotContain("*");
              assertThat(rule.getResources()).doesNotContain("*");
              if (rule.getResources().contains("sparsemodels")) {
                assertThat(rule.getVerbs()).containsOnly("get", "list", "watch");
              }
            });
  }

  @Test
  void kustomizationListsEveryBaseFile() throws Exception {
    String kustomization = Files.readString(MANIFESTS.resolve("kustomization.yaml"));
    try (var files = Files.list(MANIFESTS.resolve("base"))) {
      assertThat(files)
          .allSatisfy(f -> assertThat(kustomization).contains("base/" + f.getFileName()));
    }
  }

  private static List<HasMetadata> load(String file) throws Exception {
    Object parsed = YAML.unmarshal(Files.readString(MANIFESTS.resolve(file)));
    return parsed instanceof List<?> list
        ? list.stream().map(HasMetadata.class::cast).toList()
        : List.of((HasMetadata) parsed);
  }

  private static <T extends HasMetadata> T find(List<HasMetadata> resources, Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow();
  }
}
