package io.sparserollout.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sparserollout.stage.ServingMetrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
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
 * Arguments: MODEL.onnx SERVER_URL SERVER_PID [OVERLOAD_SECONDS, default 20].
 */
public final class ServingBenchmark {
  static final int SEQ = 16;
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    String url = args[1] + "/v2/models/minilm/infer";
    long pid = Long.parseLong(args[2]);

    // This VM's speed drifts by 10-20% over minutes, so the server and the in-process baseline
    // are measured in alternating rounds and compared over the same rounds.
    String batch32 = request(32);
    String binary32 = batch32.replaceFirst("\\{", "{\"parameters\":{\"binary_data_output\":true},");
    String single = request(1);
    String singleBinary =
        single.replaceFirst("\\{", "{\"parameters\":{\"binary_data_output\":true},");
    try (OrtSession session = session(model)) {
      Map<String, OnnxTensor> feeds32 = feeds(32);
      Map<String, OnnxTensor> feeds1 = feeds(1);
      inProcessSeconds(session, feeds32, 3);
      serverSeconds(url, batch32, 2, 2);
      serverSeconds(url, binary32, 2, 2);
      double local = 0;
      double json = 0;
      double binary = 0;
      double[] binaryCpu = new double[2];
      for (int round = 0; round < ROUNDS; round++) {
        local += inProcessSeconds(session, feeds32, 16);
        json += serverSeconds(url, batch32, 2, 8);
        double[] c0 = cpu(pid);
        binary += serverSeconds(url, binary32, 2, 8);
        double[] c1 = cpu(pid);
        binaryCpu[0] += c1[0] - c0[0];
        binaryCpu[1] += c1[1] - c0[1];
      }
      System.out.printf(
          "CPU per batch-32 request with binary outputs: server %.1f ms, client %.1f ms%n",
          binaryCpu[0] / (ROUNDS * 16), binaryCpu[1] / (ROUNDS * 16));
      double inProcess = ROUNDS * 16 * 32 / local;
      System.out.printf(
          "in-process ONNX Runtime, batch 32 x %d tokens: %.1f sentences/s%n", SEQ, inProcess);
      System.out.printf(
          "server, batch-32 requests, 2 clients: %.1f sentences/s (%.0f%% of in-process)%n",
          ROUNDS * 16 * 32 / json, 100 * local / json);
      System.out.printf(
          "server, batch-32 requests with binary outputs, 2 clients: %.1f sentences/s (%.0f%% of"
              + " in-process)%n",
          ROUNDS * 16 * 32 / binary, 100 * local / binary);

      latencies(url, single, 200); // warm the server's single-request path
      latencies(url, singleBinary, 200);
      Map<String, Double> before = buckets(args[1]);
      List<Double> localMs = new ArrayList<>();
      List<Double> jsonMs = new ArrayList<>();
      List<Double> binaryMs = new ArrayList<>();
      for (int round = 0; round < ROUNDS; round++) {
        localMs.addAll(inProcessLatencies(session, feeds1, 100));
        jsonMs.addAll(latencies(url, single, 100));
        binaryMs.addAll(latencies(url, singleBinary, 100));
      }
      Map<String, Double> after = buckets(args[1]);
      System.out.printf(
          "single sentence, server-side p50 from its own histograms: request %.2f ms, of which the"
              + " model run %.2f ms%n",
          median(before, after, ServingMetrics.REQUEST_DURATION_BUCKET),
          median(before, after, "inference_compute_duration_seconds_bucket"));
      System.out.printf(
          "single sentence, sequential: in-process p50 %.2f ms; server p50 %.2f ms (added %.2f"
              + " ms), with binary outputs %.2f ms (added %.2f ms)%n",
          p50(localMs),
          p50(jsonMs),
          p50(jsonMs) - p50(localMs),
          p50(binaryMs),
          p50(binaryMs) - p50(localMs));
    }

    long rssBefore = rssKiB(pid);
    int overloadSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
    List<Long> rssDuring = overload(url, request(1), 64, overloadSeconds, pid);
    long rssAfter = rssKiB(pid);
    System.out.printf(
        "server RSS: %d MiB before overload, every 2 s during it %s MiB, %d MiB after%n",
        rssBefore / 1024, rssDuring, rssAfter / 1024);
  }

  /** Closed-loop clients for a while; returns the server's RSS (MiB) sampled every 2 s. */
  private static List<Long> overload(String url, String body, int clients, int seconds, long pid)
      throws Exception {
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
                    int status = post(url, body);
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
    List<Long> rss = new ArrayList<>();
    while (System.nanoTime() < end) {
      Thread.sleep(2000);
      rss.add(rssKiB(pid) / 1024);
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
    return rss;
  }

  private static final int ROUNDS = 10;

  static double p50(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).sorted().toArray()[values.size() / 2];
  }

  /** Seconds for clients x requestsEach requests sent concurrently. */
  private static double serverSeconds(String url, String body, int clients, int requestsEach)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long t0 = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      futures.add(
          pool.submit(
              () -> {
                for (int i = 0; i < requestsEach; i++) {
                  if (post(url, body) != 200) {
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
    return (System.nanoTime() - t0) / 1e9;
  }

  private static List<Double> latencies(String url, String body, int n) throws Exception {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      post(url, body);
      out.add((System.nanoTime() - t0) / 1e6);
    }
    return out;
  }

  /** One keep-alive connection per client thread. */
  private static final ThreadLocal<RawHttp> CONNECTION = new ThreadLocal<>();

  private static int post(String url, String body) throws Exception {
    if (CONNECTION.get() == null) {
      CONNECTION.set(new RawHttp(url));
    }
    return CONNECTION.get().post(URI.create(url).getPath(), body.getBytes(StandardCharsets.UTF_8));
  }

  static double inProcessSeconds(OrtSession session, Map<String, OnnxTensor> feeds, int runs)
      throws Exception {
    long t0 = System.nanoTime();
    for (int i = 0; i < runs; i++) {
      session.run(feeds).close();
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  static List<Double> inProcessLatencies(OrtSession session, Map<String, OnnxTensor> feeds, int n)
      throws Exception {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      session.run(feeds).close();
      out.add((System.nanoTime() - t0) / 1e6);
    }
    return out;
  }

  static OrtSession session(Path model) throws Exception {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    return OrtEnvironment.getEnvironment().createSession(model.toString(), options);
  }

  static Map<String, OnnxTensor> feeds(int rows) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] shape = {rows, SEQ};
    return Map.of(
        "input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids(rows)), shape),
        "attention_mask",
            OnnxTensor.createTensor(env, LongBuffer.wrap(filled(rows * SEQ, 1)), shape),
        "token_type_ids",
            OnnxTensor.createTensor(env, LongBuffer.wrap(filled(rows * SEQ, 0)), shape));
  }

  static long[] ids(int rows) {
    long[] ids = new long[rows * SEQ];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i % SEQ == 0 ? 101 : i % SEQ == SEQ - 1 ? 102 : 1000 + (i * 7919L) % 20000;
    }
    return ids;
  }

  static long[] filled(int n, long value) {
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

  /** The server's histogram buckets: "metric le" to cumulative count. */
  private static Map<String, Double> buckets(String base) throws Exception {
    String metrics =
        HTTP.send(
                HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Map<String, Double> out = new java.util.TreeMap<>();
    java.util.regex.Pattern bucket =
        java.util.regex.Pattern.compile("^(\\w+_bucket)\\{.*le=\"([^\"]+)\".*\\} (\\S+)$");
    for (String line : metrics.split("\n")) {
      java.util.regex.Matcher m = bucket.matcher(line);
      if (m.matches()) {
        out.put(m.group(1) + " " + m.group(2), Double.parseDouble(m.group(3)));
      }
    }
    return out;
  }

  /** The median of what a histogram counted between two snapshots, interpolated in its bucket. */
  private static double median(Map<String, Double> before, Map<String, Double> after, String name) {
    List<double[]> counts = new ArrayList<>(); // {upper bound in ms, cumulative count}
    for (var e : after.entrySet()) {
      if (e.getKey().startsWith(name + " ") && !e.getKey().endsWith("+Inf")) {
        double le = Double.parseDouble(e.getKey().substring(name.length() + 1)) * 1000;
        counts.add(new double[] {le, e.getValue() - before.getOrDefault(e.getKey(), 0.0)});
      }
    }
    counts.sort(java.util.Comparator.comparingDouble(c -> c[0]));
    double total = after.get(name + " +Inf") - before.getOrDefault(name + " +Inf", 0.0);
    double lower = 0;
    double below = 0;
    for (double[] c : counts) {
      if (c[1] >= total / 2) {
        return lower + (c[0] - lower) * (total / 2 - below) / Math.max(c[1] - below, 1e-9);
      }
      lower = c[0];
      below = c[1];
    }
    return Double.NaN;
  }

  /** CPU milliseconds used so far: the server process's, and this one's. */
  static double[] cpu(long server) throws Exception {
    String[] stat = java.nio.file.Files.readString(Path.of("/proc/" + server + "/stat")).split(" ");
    double ticks = 1000.0 / 100; // USER_HZ
    double serverMs = (Long.parseLong(stat[13]) + Long.parseLong(stat[14])) * ticks;
    double ownMs =
        ((com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime()
            / 1e6;
    return new double[] {serverMs, ownMs};
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
