package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sparserollout.operator.rollout.ServedModel;
import io.sparserollout.operator.rollout.ServingResources;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The monitoring manifests for prometheus-operator say what the plain-Prometheus path says: the
 * same alert groups, and the same scrape port and path as the annotations on what is scraped.
 */
class MonitoringManifestsTest {
  private static final Path DIR = Path.of(System.getProperty("manifests.dir"), "monitoring");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void thePrometheusRuleHoldsExactlyTheRulesFilesGroups() throws Exception {
    JsonNode plain = YAML.readTree(DIR.resolve("alerts.rules.yaml").toFile());
    JsonNode rule = YAML.readTree(DIR.resolve("prometheus-rule.yaml").toFile());

    assertThat(rule.get("kind").asText()).isEqualTo("PrometheusRule");
    assertThat(rule.get("spec").get("groups")).isEqualTo(plain.get("groups"));
  }

  @Test
  void thePodMonitorScrapesTheInferencePodsWhereTheirAnnotationsSay() throws Exception {
    JsonNode monitor = YAML.readTree(DIR.resolve("pod-monitor.yaml").toFile());
    var model = Fixtures.minilm();
    var template =
        ServingResources.deployment(
                model,
                ServedModel.revision(model, "abcdef0123", null),
                1,
                new io.sparserollout.operator.rollout.ServingSettings("i", "s", 8080))
            .getSpec()
            .getTemplate();
    Map<String, String> annotations = template.getMetadata().getAnnotations();
    JsonNode endpoint = monitor.get("spec").get("podMetricsEndpoints").get(0);
    int namedPort =
        template.getSpec().getContainers().get(0).getPorts().stream()
            .filter(p -> p.getName().equals(endpoint.get("port").asText()))
            .findFirst()
            .orElseThrow()
            .getContainerPort();

    assertThat(String.valueOf(namedPort)).isEqualTo(annotations.get("prometheus.io/port"));
    assertThat(endpoint.get("path").asText()).isEqualTo(annotations.get("prometheus.io/path"));
    Map<String, String> selector = new HashMap<>();
    monitor
        .get("spec")
        .get("selector")
        .get("matchLabels")
        .fields()
        .forEachRemaining(e -> selector.put(e.getKey(), e.getValue().asText()));
    assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(selector);
  }

  @Test
  void theServiceMonitorScrapesTheOperatorWhereItsServiceSays() throws Exception {
    JsonNode monitor = YAML.readTree(DIR.resolve("service-monitor.yaml").toFile());
    JsonNode found = null;
    for (JsonNode doc :
        YAML.readValues(
                YAML.createParser(
                    Path.of(System.getProperty("manifests.dir"), "base/operator.yaml").toFile()),
                JsonNode.class)
            .readAll()) {
      if (doc.get("kind").asText().equals("Service")) {
        found = doc;
      }
    }
    JsonNode service = found;
    JsonNode endpoint = monitor.get("spec").get("endpoints").get(0);

    assertThat(service).isNotNull();
    assertThat(endpoint.get("path").asText())
        .isEqualTo(service.get("metadata").get("annotations").get("prometheus.io/path").asText());
    assertThat(service.get("spec").get("ports").get(0).get("name").asText())
        .isEqualTo(endpoint.get("port").asText());
    monitor
        .get("spec")
        .get("selector")
        .get("matchLabels")
        .fields()
        .forEachRemaining(
            e ->
                assertThat(service.get("metadata").get("labels").get(e.getKey()).asText())
                    .isEqualTo(e.getValue().asText()));
  }
}
