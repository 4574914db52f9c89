package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * docs/benchmarks.md: 500 SparseModels created at once, until each has its first stage Job. Run:
 * ./mvnw -B verify -pl operator -am -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
 * -Dit.test=ScaleBenchmarkIT -Dfailsafe.failIfNoSpecifiedTests=false -Dbenchmark=true
 */
@QuarkusTest
@EnabledIfSystemProperty(named = "benchmark", matches = "true")
class ScaleBenchmarkIT {
  private static final int MODELS = Integer.getInteger("benchmark.models", 500);
  private static final String NAMESPACE = "scale";

  @Test
  void fiveHundredModelsReachTheirFirstStage() throws Exception {
    try (KubernetesClient admin = RealApiServerResource.apiServer().client()) {
      admin
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
      Map<String, Double> before = operatorWrites(admin);
      System.gc();
      long heapBefore = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();

      long start = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      for (int i = 0; i < MODELS; i++) {
        int n = i;
        pool.submit(
            () -> {
              SparseModel model = Fixtures.minilm();
              model.getMetadata().setName("m" + n);
              model.getMetadata().setNamespace(NAMESPACE);
              model.getMetadata().setUid(null);
              model.getMetadata().setGeneration(null);
              return admin.resource(model).create();
            });
      }
      pool.shutdown();
      await()
          .atMost(Duration.ofMinutes(10))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () ->
                  admin
                          .resources(SparseModel.class)
                          .inNamespace(NAMESPACE)
                          .list()
                          .getItems()
                          .stream()
                          .filter(
                              m ->
                                  m.getStatus() != null
                                      && m.getStatus().getPhase() == Phase.PRUNING)
                          .count()
                      == MODELS);
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(admin.batch().v1().jobs().inNamespace(NAMESPACE).list().getItems())
          .hasSize(MODELS);

      Thread.sleep(2000); // let late status patches and events land before counting
      Map<String, Double> after = operatorWrites(admin);
      System.gc();
      long heapAfter = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      StringBuilder report = new StringBuilder();
      report.append(
          String.format(
              "BENCHMARK %d SparseModels reached Pruning in %.1f s (%.1f per second)%n",
              MODELS, seconds, MODELS / seconds));
      after.forEach(
          (k, v) ->
              report.append(
                  String.format(
                      "BENCHMARK %s: %.2f per SparseModel%n",
                      k, (v - before.getOrDefault(k, 0.0)) / MODELS)));
      report.append(
          String.format(
              "BENCHMARK JVM heap after GC (operator + test client): %d MiB before, %d MiB after%n",
              heapBefore >> 20, heapAfter >> 20));
      System.out.print(report);
    }
  }

  /** Writes the operator makes, from the API server's own request counters. */
  private static Map<String, Double> operatorWrites(KubernetesClient admin) {
    String metrics = admin.raw("/metrics");
    return Map.of(
        "job creates", sum(metrics, "resource=\"jobs\"", "verb=\"POST\""),
        "event creates (operator and job controller)",
            sum(metrics, "resource=\"events\"", "verb=\"POST\""),
        "status writes (update, patch or apply)",
            sum(metrics, "resource=\"sparsemodels\"", "subresource=\"status\"", "verb=\"PUT\"")
                + sum(
                    metrics,
                    "resource=\"sparsemodels\"",
                    "subresource=\"status\"",
                    "verb=\"PATCH\"")
                + sum(
                    metrics,
                    "resource=\"sparsemodels\"",
                    "subresource=\"status\"",
                    "verb=\"APPLY\""),
        "status write conflicts (409)",
            sum(metrics, "resource=\"sparsemodels\"", "subresource=\"status\"", "code=\"409\""));
  }

  private static double sum(String metrics, String... labels) {
    double total = 0;
    Matcher m =
        Pattern.compile("(?m)^apiserver_request_total\\{([^}]*)\\} (\\S+)$").matcher(metrics);
    while (m.find()) {
      boolean all = true;
      for (String label : labels) {
        all &= m.group(1).contains(label);
      }
      if (all) {
        total += Double.parseDouble(m.group(2));
      }
    }
    return total;
  }
}
