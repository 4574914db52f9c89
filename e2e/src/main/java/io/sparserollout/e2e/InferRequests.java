package io.sparserollout.e2e;

import io.sparserollout.sparsify.text.NpzFile;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.text.TokenBatch;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Live traffic for the demo and the e2e tests: Open Inference Protocol v2 requests made from
 * held-out sentences (never used for calibration), tokenized with the model's own tokenizer, one
 * sentence per request, so the canary is judged on varied inputs.
 */
public final class InferRequests {
  /** [CLS] hello world [SEP]: a request that needs no tokenizer (readiness checks). */
  public static final String HELLO_WORLD = body(new long[] {101, 7592, 2088, 102});

  private InferRequests() {}

  public static List<String> fromSentences(
      Path tokenizer, Path sentences, int count, int maxLength) {
    List<String> bodies = new ArrayList<>();
    try (TextTokenizer text = TextTokenizer.load(tokenizer, maxLength)) {
      for (String sentence : Sentences.first(Sentences.read(sentences, "traffic"), count)) {
        TokenBatch batch = text.encode(List.of(sentence));
        bodies.add(body(batch.ids()));
      }
    }
    return bodies;
  }

  /**
   * A ranker's traffic: one request per query of a query<TAB>document file, in the order queries
   * first appear, its rows the query's documents in the tokenizer's pair encoding.
   */
  public static List<String> fromPairs(Path tokenizer, Path pairs, int queries, int maxLength) {
    Map<String, List<String>> byQuery = new LinkedHashMap<>();
    for (String line : Sentences.read(pairs, "traffic")) {
      byQuery
          .computeIfAbsent(line.substring(0, line.indexOf('\t')), q -> new ArrayList<>())
          .add(line);
    }
    List<String> bodies = new ArrayList<>();
    try (TextTokenizer text = TextTokenizer.load(tokenizer, maxLength, true)) {
      for (List<String> documents : byQuery.values()) {
        if (bodies.size() == queries) {
          break;
        }
        TokenBatch batch = text.encode(documents);
        long[] shape = {batch.size(), batch.length()};
        bodies.add(
            "{\"inputs\":["
                + tensor("input_ids", shape, batch.ids())
                + ","
                + tensor("attention_mask", shape, batch.attentionMask())
                + ","
                + tensor("token_type_ids", shape, batch.typeIds())
                + "]}");
      }
    }
    return bodies;
  }

  /**
   * A model of tensors' traffic: one request per sample of an .npz file (float32 arrays), every
   * array an input of its name, its first dimension 1.
   */
  public static List<String> fromNpz(Path npz, int count) {
    Map<String, NpzFile.Array> arrays = NpzFile.read(npz, "traffic");
    List<String> bodies = new ArrayList<>();
    for (TensorBatch sample : NpzFile.batches(arrays, 0, count, 1)) {
      List<String> inputs = new ArrayList<>();
      sample
          .inputs()
          .forEach(
              (name, input) -> {
                if (!(input.values() instanceof FloatBuffer values)) {
                  throw new IllegalArgumentException(npz + ": array " + name + " is not float32");
                }
                StringBuilder data = new StringBuilder();
                for (int i = 0; i < values.limit(); i++) {
                  float value = values.get(i);
                  if (!Float.isFinite(value)) {
                    throw new IllegalArgumentException(
                        npz + ": array " + name + " holds " + value + ", which JSON cannot carry");
                  }
                  data.append(i == 0 ? "" : ",").append(value);
                }
                inputs.add(
                    "{\"name\":\""
                        + name
                        + "\",\"shape\":"
                        + Arrays.toString(input.shape()).replace(" ", "")
                        + ",\"datatype\":\"FP32\",\"data\":["
                        + data
                        + "]}");
              });
      bodies.add("{\"inputs\":[" + String.join(",", inputs) + "]}");
    }
    return bodies;
  }

  static String body(long[] ids) {
    long[] ones = new long[ids.length];
    Arrays.fill(ones, 1);
    return "{\"inputs\":["
        + tensor("input_ids", ids)
        + ","
        + tensor("attention_mask", ones)
        + ","
        + tensor("token_type_ids", new long[ids.length])
        + "]}";
  }

  private static String tensor(String name, long[] values) {
    return tensor(name, new long[] {1, values.length}, values);
  }

  private static String tensor(String name, long[] shape, long[] values) {
    return "{\"name\":\""
        + name
        + "\",\"shape\":["
        + shape[0]
        + ","
        + shape[1]
        + "],\"datatype\":\"INT64\",\"data\":["
        + Arrays.stream(values).mapToObj(Long::toString).collect(Collectors.joining(","))
        + "]}";
  }
}
