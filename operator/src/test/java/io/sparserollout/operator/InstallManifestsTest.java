package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodTemplate;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
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
    List<PolicyRule> rules =
        load("base/rbac.yaml").stream()
            .filter(ClusterRole.class::isInstance)
            .flatMap(r -> ((ClusterRole) r).getRules().stream())
            .toList();

    assertThat(rules)
        .isNotEmpty()
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
    String kustomization = Files.readString(MANIFESTS.resolve("base/kustomization.yaml"));
    try (var files = Files.list(MANIFESTS.resolve("base"))) {
      assertThat(files)
          .filteredOn(f -> !f.getFileName().toString().equals("kustomization.yaml"))
          .allSatisfy(f -> assertThat(kustomization).contains("- " + f.getFileName()));
    }
  }

  @Test
  void theOperatorsNamespaceEnforcesTheRestrictedStandard() throws Exception {
    Namespace namespace = find(load("base/namespace.yaml"), Namespace.class);
    assertThat(namespace.getMetadata().getLabels())
        .containsEntry("pod-security.kubernetes.io/enforce", "restricted");
    var pod = find(load("base/operator.yaml"), Deployment.class).getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
  }

  @Test
  void theOperatorMayConnectOnlyToDnsTheApiServerInferencePodsAndPrometheus() throws Exception {
    NetworkPolicy policy = find(load("base/network-policy.yaml"), NetworkPolicy.class);
    Deployment operator = find(load("base/operator.yaml"), Deployment.class);

    assertThat(operator.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Egress");
    assertThat(policy.getSpec().getEgress())
        .flatExtracting(rule -> rule.getPorts())
        .extracting(p -> p.getProtocol() + "/" + p.getPort().getIntVal())
        .containsExactlyInAnyOrder(
            "UDP/53", "TCP/53", "TCP/443", "TCP/6443", "TCP/8080", "TCP/9090");
    assertThat(policy.getSpec().getEgress())
        .filteredOn(rule -> rule.getPorts().get(0).getPort().getIntVal() == 8080)
        .singleElement()
        .satisfies(
            rule ->
                assertThat(rule.getTo().get(0).getPodSelector().getMatchLabels())
                    .containsEntry("app.kubernetes.io/managed-by", "sparserollout-operator"));
  }

  @Test
  void theNamespacedInstallBindsTheModelRoleOnlyInTheListedNamespaces() throws Exception {
    List<HasMetadata> built = kustomize(MANIFESTS.resolve("namespaced"));

    assertThat(built)
        .filteredOn(ClusterRoleBinding.class::isInstance)
        .extracting(r -> ((ClusterRoleBinding) r).getRoleRef().getName())
        .containsExactly("sparserollout-operator-cluster");
    assertThat(built)
        .filteredOn(RoleBinding.class::isInstance)
        .map(RoleBinding.class::cast)
        .filteredOn(b -> b.getRoleRef().getName().equals("sparserollout-operator"))
        .extracting(b -> b.getMetadata().getNamespace())
        .containsExactly("ml");
    assertThat(
            find(built, Deployment.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName())
                  .isEqualTo("QUARKUS_OPERATOR_SDK_CONTROLLERS_SPARSEMODEL_NAMESPACES");
              assertThat(e.getValue()).isEqualTo("ml");
            })
        .anySatisfy(e -> assertThat(e.getName()).isEqualTo("SPARSEROLLOUT_LEASE_NAMESPACE"));
    assertThat(built)
        .filteredOn(ClusterRole.class::isInstance)
        .map(ClusterRole.class::cast)
        .filteredOn(r -> r.getMetadata().getName().equals("sparserollout-operator-cluster"))
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.getRules())
                    .flatExtracting(PolicyRule::getResources)
                    .containsExactlyInAnyOrder(
                        "nodes", "clusterpolicies", "customresourcedefinitions"));
  }

  private static List<HasMetadata> kustomize(Path directory) throws Exception {
    Process kustomize =
        new ProcessBuilder(
                ControlPlaneBinaries.directory().resolve("kubectl").toString(),
                "kustomize",
                directory.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(kustomize.getInputStream().readAllBytes());
    assertThat(kustomize.waitFor()).as(out).isZero();
    return YAML.unmarshal(out);
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
    List<HasMetadata> built = kustomize(overlay);

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
