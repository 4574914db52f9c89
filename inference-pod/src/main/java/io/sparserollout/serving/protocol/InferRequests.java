package io.sparserollout.serving.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** Reads and checks an inference request body against the model's declared inputs. */
public final class InferRequests {
  private InferRequests() {}

  public static List<Tensor> parse(JsonNode body, List<TensorSpec> declared) {
    return parse(body, declared, RequestLimits.NONE);
  }

  public static List<Tensor> parse(JsonNode body, List<TensorSpec> declared, RequestLimits limits) {
    if (body == null
        || !body.isObject()
        || !body.path("inputs").isArray()
        || body.path("inputs").isEmpty()) {
      throw new BadRequest("the request needs an \"inputs\" array with at least one tensor");
    }
    List<StatedInput> stated = new ArrayList<>();
    for (JsonNode input : body.get("inputs")) {
      String name = input.path("name").asText(null);
      stated.add(
          new StatedInput(
              name,
              input.path("datatype").asText(null),
              () -> shape(name, input.path("shape")),
              (type, shape, count) -> {
                List<JsonNode> values = new ArrayList<>();
                flatten(input.path("data"), values, name);
                if (values.size() != count) {
                  throw new BadRequest(
                      "input "
                          + name
                          + " has "
                          + values.size()
                          + " values; shape "
                          + java.util.Arrays.toString(shape)
                          + " needs "
                          + count);
                }
                return convert(name, type, values);
              }));
    }
    return check(stated, declared, limits);
  }

  /** An input as a request states it: its shape and values are read only once its name passed. */
  public record StatedInput(
      String name, String datatype, Supplier<long[]> shape, ValueReader values) {}

  /** Reads an input's values, exactly {@code count} of them, as the array of their datatype. */
  @FunctionalInterface
  public interface ValueReader {
    Object read(Datatype type, long[] shape, long count);
  }

  /**
   * Checks the stated inputs against the model's declared ones, whatever the wire format: names,
   * datatypes, shapes, the limits, then the values. The REST and gRPC requests get the same errors.
   */
  public static List<Tensor> check(
      List<StatedInput> inputs, List<TensorSpec> declared, RequestLimits limits) {
    if (inputs.isEmpty()) {
      throw new BadRequest("the request needs at least one input tensor");
    }
    Map<String, TensorSpec> byName = new LinkedHashMap<>();
    declared.forEach(spec -> byName.put(spec.name(), spec));
    List<Tensor> tensors = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (StatedInput input : inputs) {
      String name = input.name();
      TensorSpec spec = byName.get(name);
      if (spec == null) {
        throw new BadRequest("unknown input " + name + "; the model takes " + byName.keySet());
      }
      if (!seen.add(name)) {
        throw new BadRequest("input " + name + " appears twice");
      }
      Datatype datatype = Datatype.parse(input.datatype());
      if (datatype != spec.datatype()) {
        throw new BadRequest(
            "input "
                + name
                + " has datatype "
                + datatype
                + "; the model expects "
                + spec.datatype());
      }
      long[] shape = checkShape(name, input.shape().get(), spec.shape());
      long expected = elements(name, shape, spec.shape(), limits, batched(declared));
      tensors.add(
          new Tensor(name, datatype, shape, input.values().read(datatype, shape, expected)));
    }
    for (String name : byName.keySet()) {
      if (!seen.contains(name)) {
        throw new BadRequest("missing input " + name);
      }
    }
    sameBatch(tensors, declared);
    return tensors;
  }

  /**
   * Where every input's first dimension is the batch, a request's inputs must agree on it: rows of
   * one input paired with another's rows of a different request would give wrong answers to whoever
   * shares the batch.
   */
  private static void sameBatch(List<Tensor> tensors, List<TensorSpec> declared) {
    if (!batched(declared)) {
      return;
    }
    long rows = tensors.get(0).shape()[0];
    for (Tensor tensor : tensors) {
      if (tensor.shape()[0] != rows) {
        throw new BadRequest(
            "inputs must agree on their first (batch) dimension: "
                + tensors.get(0).name()
                + " has "
                + rows
                + ", "
                + tensor.name()
                + " has "
                + tensor.shape()[0]);
      }
    }
  }

  private static boolean batched(List<TensorSpec> declared) {
    return declared.stream().allMatch(spec -> spec.shape().length > 0 && spec.shape()[0] < 0);
  }

  /**
   * The input's element count, refused when a dynamic dimension is beyond the limits or the count
   * overflows: a shape whose product wraps around to the length of its data would otherwise reach
   * the model.
   */
  private static long elements(
      String name, long[] shape, long[] declared, RequestLimits limits, boolean batched) {
    for (int i = 0; i < shape.length; i++) {
      if (declared[i] >= 0) {
        continue;
      }
      boolean rows = batched && i == 0;
      long least = rows ? limits.minRows() : limits.minDimension();
      if (shape[i] < least) {
        throw new BadRequest(
            "input "
                + name
                + (rows
                    ? " has " + shape[i] + " rows; the model is served for at least " + least
                    : " dimension "
                        + i
                        + " is "
                        + shape[i]
                        + "; the model is served for at least "
                        + least));
      }
      long limit = rows ? limits.maxRows() : limits.maxDimension();
      if (shape[i] > limit) {
        throw new BadRequest(
            "input "
                + name
                + (rows
                    ? " has " + shape[i] + " rows; a request may carry at most " + limit
                    : " dimension "
                        + i
                        + " is "
                        + shape[i]
                        + "; the model is served for at most "
                        + limit));
      }
    }
    long count = 1;
    try {
      for (long dimension : shape) {
        count = Math.multiplyExact(count, dimension);
      }
    } catch (ArithmeticException overflow) {
      count = Long.MAX_VALUE;
    }
    if (count > limits.maxElements()) {
      throw new BadRequest(
          "input "
              + name
              + " shape "
              + java.util.Arrays.toString(shape)
              + " has more elements than a request may carry ("
              + limits.maxElements()
              + ")");
    }
    return count;
  }

  private static long[] shape(String name, JsonNode node) {
    if (!node.isArray()) {
      throw new BadRequest("input " + name + " needs a \"shape\" array");
    }
    long[] shape = new long[node.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!node.get(i).canConvertToLong() || node.get(i).asLong() < 0) {
        throw new BadRequest("input " + name + " has an invalid dimension " + node.get(i));
      }
      shape[i] = node.get(i).asLong();
    }
    return shape;
  }

  private static long[] checkShape(String name, long[] shape, long[] declared) {
    if (shape.length != declared.length) {
      throw new BadRequest(
          "input "
              + name
              + " has rank "
              + shape.length
              + "; the model expects rank "
              + declared.length
              + " "
              + java.util.Arrays.toString(declared));
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new BadRequest("input " + name + " has an invalid dimension " + shape[i]);
      }
      if (declared[i] >= 0 && declared[i] != shape[i]) {
        throw new BadRequest(
            "input "
                + name
                + " dimension "
                + i
                + " is "
                + shape[i]
                + "; the model fixes it at "
                + declared[i]);
      }
    }
    return shape;
  }

  /** The protocol accepts data flat or nested as the shape: both become row-major values. */
  private static void flatten(JsonNode node, List<JsonNode> out, String name) {
    if (node.isArray()) {
      for (JsonNode child : node) {
        flatten(child, out, name);
      }
    } else if (node.isMissingNode() || node.isNull()) {
      throw new BadRequest("input " + name + " needs a \"data\" array");
    } else {
      out.add(node);
    }
  }

  private static Object convert(String name, Datatype type, List<JsonNode> values) {
    int n = values.size();
    switch (type) {
      case BOOL -> {
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
          if (!values.get(i).isBoolean()) {
            throw new BadRequest("input " + name + " value " + values.get(i) + " is not a BOOL");
          }
          out[i] = values.get(i).asBoolean();
        }
        return out;
      }
      case BYTES -> {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
          if (!values.get(i).isTextual()) {
            throw new BadRequest(
                "input " + name + " value " + values.get(i) + " is not BYTES (a string)");
          }
          out[i] = values.get(i).asText();
        }
        return out;
      }
      case FP16, FP32, FP64 -> {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
          if (!values.get(i).isNumber()) {
            throw new BadRequest("input " + name + " value " + values.get(i) + " is not a number");
          }
          d[i] = values.get(i).asDouble();
        }
        if (type == Datatype.FP64) {
          return d;
        }
        if (type == Datatype.FP16) {
          short[] h = new short[n];
          for (int i = 0; i < n; i++) {
            h[i] = Half.fromFloat((float) d[i]);
          }
          return h;
        }
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) d[i];
        }
        return f;
      }
      default -> {
        long[] l = new long[n];
        long[] range = range(type);
        for (int i = 0; i < n; i++) {
          JsonNode v = values.get(i);
          if (!v.isIntegralNumber()
              || !v.canConvertToLong()
              || v.asLong() < range[0]
              || v.asLong() > range[1]) {
            throw new BadRequest("input " + name + " value " + v + " is not a valid " + type);
          }
          l[i] = v.asLong();
        }
        return switch (type) {
          case INT64 -> l;
          case INT32 -> java.util.Arrays.stream(l).mapToInt(x -> (int) x).toArray();
          case INT16 -> {
            short[] s = new short[n];
            for (int i = 0; i < n; i++) {
              s[i] = (short) l[i];
            }
            yield s;
          }
          default -> {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
              b[i] = (byte) l[i];
            }
            yield b;
          }
        };
      }
    }
  }

  static long[] range(Datatype type) {
    return switch (type) {
      case INT8 -> new long[] {Byte.MIN_VALUE, Byte.MAX_VALUE};
      case UINT8 -> new long[] {0, 255};
      case INT16 -> new long[] {Short.MIN_VALUE, Short.MAX_VALUE};
      case INT32 -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
      default -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
    };
  }
}
