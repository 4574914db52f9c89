package io.sparserollout.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.Fixtures;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.operator.rollout.ServedModel;
import io.sparserollout.operator.rollout.ServingResources;
import io.sparserollout.operator.rollout.ServingSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every pod the operator creates meets the restricted Pod Security Standard (the local cluster's
 * 1.20 API server has no PodSecurity admission to check it) and runs with a read-only root.
 */
class RestrictedPodSecurityTest {
  private static final ServingSettings SERVING =
      new ServingSettings("sparserollout/inference-pod:t", "sparserollout/sparsify:t", 8080);
  private static final List<String> ALLOWED_VOLUMES =
      List.of(
          "configMap",
          "csi",
          "downwardAPI",
          "emptyDir",
          "ephemeral",
          "persistentVolumeClaim",
          "projected",
          "secret");

  static Stream<Arguments> pods() {
    List<Arguments> pods = new ArrayList<>();
    SparseModel cpu = Fixtures.minilm();
    SparseModel s3TensorRt =
        Fixtures.minilm(
            s -> {
              s.with("engine").put("backend", "tensorrt");
              s.with("artifactStore")
                  .put("uri", "s3://models/sparserollout")
                  .put("credentialsSecret", "s3");
            });
    // Every stage is built by the same StageJobs.build; the plan's stages exercise it.
    for (Stage stage : Stage.plan(cpu.getSpec())) {
      var storage = new Storage(cpu, "r");
      var job =
          StageJobs.build(
              cpu,
              "r",
              stage,
              StageHandler.of(stage)
                  .args(new StageContext(cpu, storage, Stage.plan(cpu.getSpec()))),
              new GpuPlacement.OnCpu(),
              new JobSettings("sparserollout/sparsify:t", 2, java.time.Duration.ofHours(2)));
      pods.add(Arguments.of("stage " + stage, job.getSpec().getTemplate().getSpec()));
    }
    pods.add(serving("revision on CPU", cpu, ServedModel.revision(cpu, "r", null)));
    pods.add(serving("dense baseline", cpu, ServedModel.dense(cpu, "baseline")));
    pods.add(
        serving(
            "TensorRT plan fetched from S3",
            s3TensorRt,
            ServedModel.revision(s3TensorRt, "r", "NVIDIA-A100-SXM4-80GB")));
    return pods.stream();
  }

  private static Arguments serving(String name, SparseModel model, ServedModel served) {
    return Arguments.of(
        "serving " + name,
        ServingResources.deployment(model, served, 1, SERVING).getSpec().getTemplate().getSpec());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pods")
  void meetsTheRestrictedStandard(String name, PodSpec pod) {
    assertThat(violations(pod)).as(name).isEmpty();
    assertThat(pod.getAutomountServiceAccountToken()).as(name + ": no API token").isFalse();
  }

  /** The restricted profile's rules (Kubernetes Pod Security Standards), as messages. */
  static List<String> violations(PodSpec pod) {
    List<String> found = new ArrayList<>();
    if (Boolean.TRUE.equals(pod.getHostNetwork())
        || Boolean.TRUE.equals(pod.getHostPID())
        || Boolean.TRUE.equals(pod.getHostIPC())) {
      found.add("host namespaces");
    }
    for (Volume volume : pod.getVolumes()) {
      Map<String, Object> fields =
          io.fabric8.kubernetes.client.utils.Serialization.jsonMapper()
              .convertValue(volume, Map.class);
      fields.keySet().stream()
          .filter(k -> !k.equals("name") && !ALLOWED_VOLUMES.contains(k))
          .forEach(k -> found.add("volume " + volume.getName() + " of type " + k));
    }
    var podContext = pod.getSecurityContext();
    boolean podNonRoot = podContext != null && Boolean.TRUE.equals(podContext.getRunAsNonRoot());
    String podSeccomp =
        podContext == null || podContext.getSeccompProfile() == null
            ? null
            : podContext.getSeccompProfile().getType();
    if (podContext != null && Objects.equals(podContext.getRunAsUser(), 0L)) {
      found.add("pod runs as user 0");
    }
    if (podContext != null
        && podContext.getSysctls() != null
        && !podContext.getSysctls().isEmpty()) {
      found.add("pod sets sysctls");
    }
    List<Container> containers = new ArrayList<>(pod.getContainers());
    containers.addAll(pod.getInitContainers());
    for (Container c : containers) {
      SecurityContext sc = c.getSecurityContext();
      String who = "container " + c.getName() + ": ";
      if (sc == null) {
        found.add(who + "no securityContext");
        continue;
      }
      if (Boolean.TRUE.equals(sc.getPrivileged())) {
        found.add(who + "privileged");
      }
      if (!Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
        found.add(who + "allowPrivilegeEscalation is not false");
      }
      if (sc.getCapabilities() == null
          || sc.getCapabilities().getDrop() == null
          || !sc.getCapabilities().getDrop().contains("ALL")) {
        found.add(who + "capabilities not dropped (ALL)");
      }
      if (sc.getCapabilities() != null
          && sc.getCapabilities().getAdd() != null
          && sc.getCapabilities().getAdd().stream().anyMatch(a -> !a.equals("NET_BIND_SERVICE"))) {
        found.add(who + "adds capabilities");
      }
      if (!podNonRoot && !Boolean.TRUE.equals(sc.getRunAsNonRoot())) {
        found.add(who + "runAsNonRoot not set");
      }
      if (Objects.equals(sc.getRunAsUser(), 0L)) {
        found.add(who + "runs as user 0");
      }
      String seccomp =
          sc.getSeccompProfile() == null ? podSeccomp : sc.getSeccompProfile().getType();
      if (!"RuntimeDefault".equals(seccomp) && !"Localhost".equals(seccomp)) {
        found.add(who + "seccompProfile is not RuntimeDefault or Localhost");
      }
      if (!Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
        found.add(who + "root filesystem not read-only");
      }
      if (c.getPorts() != null && c.getPorts().stream().anyMatch(p -> p.getHostPort() != null)) {
        found.add(who + "host port");
      }
    }
    return found;
  }
}
