package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplate;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.sparserollout.testing.ControlPlaneBinaries;
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

  @Test
  void anOverlaysImagesMoveTheOperatorAndEveryPodItCreates() throws Exception {
    // An overlay as a platform team writes one (kubectl 1.20's kustomize takes `bases:`).
    Path overlay = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "overlay");
    Files.writeString(
        overlay.resolve("kustomization.yaml"),
        "bases: ["
            + overlay.relativize(MANIFESTS.toAbsolutePath())
            + "]\nimages:\n"
            + "- {name: sparserollout/operator, newName: registry.example.com/ml/operator}\n"
            + "- {name: sparserollout/sparsify, newName: registry.example.com/ml/sparsify}\n"
            + "- {name: sparserollout/inference-pod, newTag: \"1.2\"}\n");
    Process kustomize =
        new ProcessBuilder(
                ControlPlaneBinaries.directory().resolve("kubectl").toString(),
                "kustomize",
                overlay.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(kustomize.getInputStream().readAllBytes());
    assertThat(kustomize.waitFor()).as(out).isZero();
    List<HasMetadata> built = YAML.unmarshal(out);

    assertThat(find(built, Deployment.class).getSpec().getTemplate().getSpec().getContainers())
        .extracting(Container::getImage)
        .containsExactly("registry.example.com/ml/operator:0.1.0");
    // The operator builds stage and serving pods from this template (WorkloadImages).
    assertThat(find(built, PodTemplate.class).getTemplate().getSpec().getContainers())
        .extracting(Container::getName, Container::getImage)
        .containsExactly(
            tuple("sparsify", "registry.example.com/ml/sparsify:0.1.0"),
            tuple("inference-pod", "sparserollout/inference-pod:1.2"));
    assertThat(find(built, PodTemplate.class).getMetadata().getName())
        .isEqualTo(WorkloadImages.TEMPLATE);
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
