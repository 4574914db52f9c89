package io.sparserollout.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparserollout.serving.protocol.TensorSpec;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;

/**
 * The Open Inference Protocol v2 REST API, as KServe and Triton speak it: server, health and model
 * metadata; infer itself is {@link InferRoute}.
 */
@Path("/v2")
@Produces(MediaType.APPLICATION_JSON)
public class V2Resource {
  public static final String VERSION = "1";
  public static final String SERVER_NAME = "sparserollout-inference-pod";
  public static final String SERVER_VERSION = "0.1.0";
  private final ModelService model;
  private final ObjectMapper json;

  public V2Resource(ModelService model, ObjectMapper json) {
    this.model = model;
    this.json = json;
  }

  @GET
  public Map<String, Object> server() {
    return Map.of("name", SERVER_NAME, "version", SERVER_VERSION, "extensions", List.of());
  }

  @GET
  @Path("/health/live")
  public Map<String, Object> live() {
    return Map.of("live", true);
  }

  @GET
  @Path("/health/ready")
  public Response ready() {
    // The model loads before the server listens; readiness ends when a graceful stop begins.
    return model.stopping()
        ? Response.status(503).entity(Map.of("ready", false)).build()
        : Response.ok(Map.of("ready", true)).build();
  }

  @GET
  @Path("/models/{name}")
  public ObjectNode metadata(@PathParam("name") String name) {
    requireModel(name, VERSION);
    ObjectNode out = json.createObjectNode();
    out.put("name", model.name());
    out.putArray("versions").add(VERSION);
    out.put("platform", model.backend().platform());
    out.set("inputs", specs(model.backend().inputs()));
    out.set("outputs", specs(model.backend().outputs()));
    return out;
  }

  @GET
  @Path("/models/{name}/versions/{version}")
  public ObjectNode versionMetadata(
      @PathParam("name") String name, @PathParam("version") String version) {
    requireModel(name, version);
    return metadata(name);
  }

  @GET
  @Path("/models/{name}/ready")
  public Map<String, Object> modelReady(@PathParam("name") String name) {
    requireModel(name, VERSION);
    return Map.of("name", name, "ready", true);
  }

  @GET
  @Path("/models/{name}/versions/{version}/ready")
  public Map<String, Object> versionReady(
      @PathParam("name") String name, @PathParam("version") String version) {
    requireModel(name, version);
    return Map.of("name", name, "ready", true);
  }

  private ArrayNode specs(List<TensorSpec> specs) {
    ArrayNode array = json.createArrayNode();
    for (TensorSpec spec : specs) {
      ObjectNode node = array.addObject();
      node.put("name", spec.name());
      node.put("datatype", spec.datatype().name());
      ArrayNode shape = node.putArray("shape");
      for (long d : spec.shape()) {
        shape.add(d);
      }
    }
    return array;
  }

  private void requireModel(String name, String version) {
    model.require(name, version);
  }
}
