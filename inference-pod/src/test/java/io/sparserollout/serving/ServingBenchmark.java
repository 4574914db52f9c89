package io.sparserollout.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * docs/benchmarks.md, serving: run by scripts/bench-serving.sh against a server it started.
 * Arguments: MODEL.onnx SERVER_URL SERVER_PID.
 */
public final class ServingBenchmark {
  private static final int SEQ = 16;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    String url = args[1] + "/v2/models/minilm/infer";
    long pid = Long.parseLong(args[2]);

    double inProcess = inProcessThroughput(model, 32, 20);
    System.out.printf(
        "in-process ONNX Runtime, batch 32 x %d tokens: %.1f sentences/s%n", SEQ, inProcess);
    String batch32 = request(32);
    double served = serverThroughput(url, batch32, 32, 2, 20);
    System.out.printf(
        "server, batch-32 requests, 2 clients: %.1f sentences/s (%.0f%% of in-process)%n",
        served, 100 * served / inProcess);
    String binary32 = batch32.replaceFirst("\\{", "{\"parameters\":{\"binary_data_output\":true},");
    double servedBinary = serverThroughput(url, binary32, 32, 2, 20);
    System.out.printf(
        "server, batch-32 requests with binary outputs, 2 clients: %.1f sentences/s (%.0f%% of"
            + " in-process)%n",
        servedBinary, 100 * servedBinary / inProcess);

    double[] local = inProcessLatencies(model, 50);
    latencies(url, request(1), 200); // warm the server's single-request path
    double[] before = serverSide(args[1]);
    double[] remote = latencies(url, request(1), 100);
    double[] after = serverSide(args[1]);
    System.out.printf(
        "single sentence, server-side mean (from its own histogram): %.2f ms%n",
        (after[0] - before[0]) / (after[1] - before[1]) * 1000);
    System.out.printf(
        "single sentence, sequential: in-process p50 %.2f ms, server p50 %.2f ms, added %.2f ms%n",
        local[local.length / 2],
        remote[remote.length / 2],
        remote[remote.length / 2] - local[local.length / 2]);

    long rssBefore = rssKiB(pid);
    overload(url, request(1), 64, 20);
    long rssAfter = rssKiB(pid);
    System.out.printf(
        "server RSS: %d MiB before overload, %d MiB after%n", rssBefore / 1024, rssAfter / 1024);
  }

  private static void overload(String url, String body, int clients, int seconds) throws Exception {
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<Double> okLatencies = Collections.synchronizedList(new ArrayList<>());
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<?>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      futures.add(
          pool.submit(
              () -> {
                while (System.nanoTime() < end) {
                  long t0 = System.nanoTime();
                  try {
                    int status = post(url, body).statusCode();
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (status == 200) {
                      ok.incrementAndGet();
                      okLatencies.add(ms);
                    } else if (status == 429 || status == 503) {
                      refused.incrementAndGet();
                    } else {
                      failed.incrementAndGet();
                    }
                  } catch (Exception e) {
                    failed.incrementAndGet();
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    double[] sorted = okLatencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    System.out.printf(
        "overload, %d clients for %d s: %d served (%.1f/s), %d refused with 429, %d failed;"
            + " served p50 %.1f ms, p99 %.1f ms%n",
        clients,
        seconds,
        ok.get(),
        ok.get() / (double) seconds,
        refused.get(),
        failed.get(),
        sorted.length == 0 ? 0 : sorted[sorted.length / 2],
        sorted.length == 0 ? 0 : sorted[(int) (sorted.length * 0.99)]);
  }

  private static double serverThroughput(
      String url, String body, int rows, int clients, int requestsEach) throws Exception {
    post(url, body); // warm-up
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long t0 = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      futures.add(
          pool.submit(
              () -> {
                for (int i = 0; i < requestsEach; i++) {
                  if (post(url, body).statusCode() != 200) {
                    throw new IllegalStateException("request failed");
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    return clients * requestsEach * rows / ((System.nanoTime() - t0) / 1e9);
  }

  private static double[] latencies(String url, String body, int n) throws Exception {
    post(url, body);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      post(url, body);
      out[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(out);
    return out;
  }

  private static HttpResponse<String> post(String url, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static double inProcessThroughput(Path model, int rows, int runs) throws Exception {
    try (OrtSession session = session(model)) {
      Map<String, OnnxTensor> feeds = feeds(rows);
      session.run(feeds).close();
      long t0 = System.nanoTime();
      for (int i = 0; i < runs; i++) {
        session.run(feeds).close();
      }
      return runs * rows / ((System.nanoTime() - t0) / 1e9);
    }
  }

  private static double[] inProcessLatencies(Path model, int n) throws Exception {
    try (OrtSession session = session(model)) {
      Map<String, OnnxTensor> feeds = feeds(1);
      session.run(feeds).close();
      double[] out = new double[n];
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        session.run(feeds).close();
        out[i] = (System.nanoTime() - t0) / 1e6;
      }
      Arrays.sort(out);
      return out;
    }
  }

  private static OrtSession session(Path model) throws Exception {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    return OrtEnvironment.getEnvironment().createSession(model.toString(), options);
  }

  private static Map<String, OnnxTensor> feeds(int rows) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] shape = {rows, SEQ};
    return Map.of(
        "input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids(rows)), shape),
        "attention_mask",
            OnnxTensor.createTensor(env, LongBuffer.wrap(filled(rows * SEQ, 1)), shape),
        "token_type_ids",
            OnnxTensor.createTensor(env, LongBuffer.wrap(filled(rows * SEQ, 0)), shape));
  }

  private static long[] ids(int rows) {
    long[] ids = new long[rows * SEQ];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i % SEQ == 0 ? 101 : i % SEQ == SEQ - 1 ? 102 : 1000 + (i * 7919L) % 20000;
    }
    return ids;
  }

  private static long[] filled(int n, long value) {
    long[] out = new long[n];
    Arrays.fill(out, value);
    return out;
  }

  /** A request in the protocol's form, asking for the pooled-over-nothing last hidden state. */
  static String request(int rows) {
    return "{\"inputs\":["
        + tensor("input_ids", rows, ids(rows))
        + ","
        + tensor("attention_mask", rows, filled(rows * SEQ, 1))
        + ","
        + tensor("token_type_ids", rows, filled(rows * SEQ, 0))
        + "]}";
  }

  private static String tensor(String name, int rows, long[] data) {
    return "{\"name\":\""
        + name
        + "\",\"datatype\":\"INT64\",\"shape\":["
        + rows
        + ","
        + SEQ
        + "],\"data\":"
        + Arrays.toString(data).replace(" ", "")
        + "}";
  }

  /** Sum and count of the server's inference_request_duration_seconds. */
  private static double[] serverSide(String base) throws Exception {
    String metrics =
        HTTP.send(
                HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    double[] out = new double[2];
    for (String line : metrics.split("\n")) {
      if (line.startsWith("inference_request_duration_seconds_sum")) {
        out[0] = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      } else if (line.startsWith("inference_request_duration_seconds_count")) {
        out[1] = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return out;
  }

  private static long rssKiB(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return -1;
  }
}
