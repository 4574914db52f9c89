package io.sparserollout.operator.argocd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.SparseModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/**
 * Runs the Argo CD health check as Argo CD does (the script sees the resource as the global {@code
 * obj} and returns {status, message}) on every case of its health_test.yaml, in Argo CD's own
 * resource_customizations layout, with LuaJ standing in for gopher-lua.
 */
class ArgoCdHealthCheckTest {
  static final Path DIR =
      Path.of("../manifests/argocd/resource_customizations/sparserollout.io/SparseModel");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static Stream<JsonNode> cases() throws IOException {
    List<JsonNode> cases = new ArrayList<>();
    YAML.readTree(DIR.resolve("health_test.yaml").toFile()).get("tests").forEach(cases::add);
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void eachTestCaseGetsItsExpectedHealth(JsonNode testCase) throws IOException {
    JsonNode resource = YAML.readTree(DIR.resolve(testCase.get("inputPath").asText()).toFile());
    // The test data is what the operator writes: it reads as a SparseModel.
    SparseModel model = new KubernetesSerialization().convertValue(resource, SparseModel.class);
    assertThat(model.getMetadata().getName()).isNotNull();

    Map<String, String> health = health(resource);

    assertThat(health.get("status")).isEqualTo(testCase.get("healthStatus").get("status").asText());
    assertThat(health.get("message"))
        .isEqualTo(testCase.get("healthStatus").get("message").asText());
  }

  @ParameterizedTest
  @EnumSource(Phase.class)
  void everyPhaseTheOperatorReportsHasAHealth(Phase phase) throws IOException {
    ObjectNode resource = (ObjectNode) YAML.readTree(DIR.resolve("testdata/pruning.yaml").toFile());
    String name = new ObjectMapper().convertValue(phase, String.class);
    ((ObjectNode) resource.get("status")).put("phase", name);

    String expected =
        switch (phase) {
          case PROMOTED -> "Healthy";
          case FAILED, GATE_FAILED, ROLLED_BACK -> "Degraded";
          default -> "Progressing";
        };
    assertThat(health(resource).get("status")).isEqualTo(expected);
    assertThat(health(resource).get("message")).startsWith(name + ": ");
  }

  @Test
  void testDataCoversEveryArgoCdStatusTheCheckReturns() throws IOException {
    List<String> statuses = cases().map(c -> c.get("healthStatus").get("status").asText()).toList();
    assertThat(statuses).contains("Healthy", "Progressing", "Degraded", "Suspended");
  }

  @Test
  void theArgoCdConfigMapEmbedsTheSameScript() throws IOException {
    JsonNode cm = YAML.readTree(DIR.resolve("../../../argocd-cm-health.yaml").toFile());
    assertThat(
            cm.get("data")
                .get("resource.customizations.health.sparserollout.io_SparseModel")
                .asText())
        .isEqualTo(Files.readString(DIR.resolve("health.lua")));
  }

  static Map<String, String> health(JsonNode resource) throws IOException {
    Globals globals = JsePlatform.standardGlobals();
    globals.set("obj", lua(resource));
    LuaValue result =
        globals.load(Files.readString(DIR.resolve("health.lua")), "health.lua").call();
    return Map.of(
        "status", result.get("status").tojstring(), "message", result.get("message").tojstring());
  }

  static LuaValue lua(JsonNode node) {
    if (node == null || node.isNull()) {
      return LuaValue.NIL;
    }
    if (node.isObject()) {
      LuaTable table = new LuaTable();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        table.set(field.getKey(), lua(field.getValue()));
      }
      return table;
    }
    if (node.isArray()) {
      LuaTable table = new LuaTable();
      for (int i = 0; i < node.size(); i++) {
        table.set(i + 1, lua(node.get(i)));
      }
      return table;
    }
    if (node.isBoolean()) {
      return LuaValue.valueOf(node.asBoolean());
    }
    if (node.isIntegralNumber()) {
      return LuaValue.valueOf(node.asLong());
    }
    if (node.isNumber()) {
      return LuaValue.valueOf(node.asDouble());
    }
    return LuaValue.valueOf(node.asText());
  }
}
