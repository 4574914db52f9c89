package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.operator.pipeline.Revision;
import io.sparserollout.operator.rollout.RolloutPlanner;
import io.sparserollout.operator.rollout.TrafficRoutes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * trafficMode gateway-api on a real API server: without the Gateway API CRDs the model waits with a
 * condition and a Warning; once they exist the canary's share moves through HTTPRoute weights while
 * the stable keeps every replica, and promotion routes everything to the new revision.
 */
@QuarkusTest
@QuarkusTestResource(RealApiServerResource.class)
class GatewayApiRolloutIT {
  @ConfigProperty(name = "sparserollout.serving.port")
  int port;

  private TestNamespace ns;
  private FakeInferencePods pods;

  @BeforeEach
  void connect(TestInfo test) {
    ns = TestNamespace.forTest(test);
    pods =
        new FakeInferencePods(
            ns.admin(), ns.name(), port, revision -> FakeInferencePods.metrics(400, 0, 0.99));
  }

  @AfterEach
  void disconnect() {
    pods.close();
    ns.close();
  }

  @Test
  void theCanarysShareMovesThroughHttpRouteWeightsOnceTheGatewayApiIsInstalled() {
    SparseModel model =
        ns.create(
            "minilm",
            spec -> {
              var rollout = spec.with("rollout");
              rollout
                  .put("replicas", 2)
                  .put("trafficMode", "gateway-api")
                  .put("autoPromote", false);
              rollout
                  .with("gateway")
                  .put("name", "inference")
                  .put("namespace", "gateways")
                  .put("sectionName", "http")
                  .put("grpcSectionName", "grpc");
              rollout
                  .with("canary")
                  .putArray("steps")
                  .addObject()
                  .put("weight", 50)
                  .put("pause", "1h");
              rollout.with("analysis").put("interval", "1s");
            });
    String revision = Revision.of(model.getSpec());
    ns.passPipeline(model, revision);

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> condition(model, "TrafficRouting"), c -> "False".equals(c));
    assertThat(ns.get(model).getStatus().getPhase()).isEqualTo(Phase.GATE_PASSED);
    ns.awaitReasons(model, "TrafficNotRoutable");

    installHttpRouteCrd();
    installCrd(TrafficRoutes.GRPC_CRD, "/grpcroute-crd.yaml");
    ns.annotate(model, "sparserollout.io/poke", "1");

    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> weights(), w -> w.equals(Map.of("minilm-dense", 50, "minilm-" + revision, 50)));
    // gRPC clients are split as REST's, to the Services' gRPC port (patched just after the
    // HTTPRoute, in the same reconcile).
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(weights("GRPCRoute")).isEqualTo(weights()));
    Map<?, ?> grpcRule = (Map<?, ?>) ((List<?>) spec(route("GRPCRoute")).get("rules")).get(0);
    assertThat(grpcRule.get("matches").toString())
        .contains("service=inference.GRPCInferenceService");
    assertThat(((Map<?, ?>) ((List<?>) grpcRule.get("backendRefs")).get(0)).get("port"))
        .isEqualTo(8081);
    // Each route on its own listener: the Gateway API accepts only one of an HTTPRoute and a
    // GRPCRoute sharing a listener's host names.
    assertThat(((Map<?, ?>) ((List<?>) spec(route()).get("parentRefs")).get(0)).get("sectionName"))
        .isEqualTo("http");
    assertThat(
            ((Map<?, ?>) ((List<?>) spec(route("GRPCRoute")).get("parentRefs")).get(0))
                .get("sectionName"))
        .isEqualTo("grpc");
    assertThat(ns.get(model).getStatus().getPhase()).isEqualTo(Phase.ROLLING_OUT);
    assertThat(condition(model, "TrafficRouting")).isNull();
    assertThat(replicas("minilm-dense")).isEqualTo(2);
    assertThat(replicas("minilm-" + revision)).isEqualTo(1);
    assertThat(ns.admin().services().inNamespace(ns.name()).withName("minilm-" + revision).get())
        .isNotNull();
    Map<?, ?> parent = (Map<?, ?>) ((List<?>) spec(route()).get("parentRefs")).get(0);
    assertThat(parent.get("name")).isEqualTo("inference");
    assertThat(parent.get("namespace")).isEqualTo("gateways");

    ns.annotate(model, RolloutPlanner.PROMOTE_ANNOTATION, revision);

    ns.awaitPhase(model, Phase.PROMOTED, Duration.ofSeconds(30));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(weights()).isEqualTo(Map.of("minilm-" + revision, 100));
              assertThat(weights("GRPCRoute")).isEqualTo(Map.of("minilm-" + revision, 100));
              assertThat(
                      ns.admin()
                          .apps()
                          .deployments()
                          .inNamespace(ns.name())
                          .withName("minilm-dense")
                          .get())
                  .isNull();
              assertThat(
                      ns.admin().services().inNamespace(ns.name()).withName("minilm-dense").get())
                  .isNull();
            });
  }

  private void installHttpRouteCrd() {
    installCrd(TrafficRoutes.CRD, "/httproute-crd.yaml");
  }

  private void installCrd(String name, String resource) {
    Crds.install(ns.admin(), name, resource);
  }

  private GenericKubernetesResource route() {
    return route("HTTPRoute");
  }

  private GenericKubernetesResource route(String kind) {
    return ns.admin()
        .genericKubernetesResources(TrafficRoutes.API_VERSION, kind)
        .inNamespace(ns.name())
        .withName("minilm")
        .get();
  }

  private static Map<?, ?> spec(GenericKubernetesResource route) {
    return (Map<?, ?>) route.getAdditionalProperties().get("spec");
  }

  /** Backend Service name to weight, or empty while there is no route. */
  private Map<String, Integer> weights() {
    return weights("HTTPRoute");
  }

  private Map<String, Integer> weights(String kind) {
    GenericKubernetesResource route = route(kind);
    Map<String, Integer> weights = new LinkedHashMap<>();
    if (route != null) {
      Map<?, ?> rule = (Map<?, ?>) ((List<?>) spec(route).get("rules")).get(0);
      for (Object ref : (List<?>) rule.get("backendRefs")) {
        Map<?, ?> backend = (Map<?, ?>) ref;
        weights.put((String) backend.get("name"), ((Number) backend.get("weight")).intValue());
      }
    }
    return weights;
  }

  private String condition(SparseModel model, String type) {
    SparseModel current = ns.get(model);
    if (current.getStatus() == null) {
      return null;
    }
    return current.getStatus().getConditions().stream()
        .filter(c -> c.type().equals(type))
        .map(c -> c.status())
        .findFirst()
        .orElse(null);
  }

  private Integer replicas(String name) {
    var d = ns.admin().apps().deployments().inNamespace(ns.name()).withName(name).get();
    return d == null ? null : d.getSpec().getReplicas();
  }
}
