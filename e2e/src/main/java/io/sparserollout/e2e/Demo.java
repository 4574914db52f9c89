package io.sparserollout.e2e;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.sparserollout.api.v1alpha1.GateStatus;
import io.sparserollout.api.v1alpha1.Phase;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.RolloutStatus;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import io.sparserollout.testing.ControlPlaneBinaries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The README's demo: a local cluster with a real node, the operator installed from manifests/, the
 * bundled real all-MiniLM-L6-v2 and the CPU sample applied with kubectl; progress as the phases
 * advance, live v2 traffic through the model's Service while the canary is judged on it, then
 * `kubectl get sparsemodels` and the measured dense-vs-sparse numbers. Tears everything down at the
 * end.
 */
public final class Demo {
  static final String NAMESPACE = "ml";

  /** Arguments: [SAMPLE] [TIMEOUT_MINUTES]; SAMPLE names a file of manifests/samples/. */
  public static void main(String[] args) throws Exception {
    Path root = ControlPlaneBinaries.projectRoot();
    Path work = root.resolve("e2e/target/demo");
    String sampleName = "minilm-cpu";
    Long minutes = null;
    for (String arg : args) {
      if (arg.matches("\\d+")) {
        minutes = Long.parseLong(arg);
      } else {
        sampleName = arg.replaceFirst("^.*/", "").replaceFirst("\\.yaml$", "");
      }
    }
    String samplePath = "manifests/samples/" + sampleName + ".yaml";
    Path sample = root.resolve(samplePath);
    if (!Files.isRegularFile(sample)) {
      System.err.println("[demo] no sample " + samplePath + "; the samples: " + samples(root));
      System.exit(2);
    }
    SparseModel desired = Serialization.unmarshal(Files.readString(sample), SparseModel.class);
    String modelName = desired.getMetadata().getName();
    // Fine-tuning on two cores takes about 20 minutes (docs/benchmarks.md) on top of the rest.
    Duration timeout = Duration.ofMinutes(minutes != null ? minutes : trains(desired) ? 60 : 25);
    Instant start = Instant.now();
    say(
        "starting a local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler;"
            + " cpu-node run by containerd, runc, kubelet and kube-proxy with cluster DNS;"
            + " a100-node (A100) and t4-node (T4) in the API only (no GPU here)");
    int exit = 1;
    try (LocalCluster cluster = LocalCluster.start(work)) {
      say("kubectl get nodes -o wide");
      System.out.println(cluster.kubectl().ok("get", "nodes", "-o", "wide"));
      say("kubectl apply -k manifests/   (CRD, RBAC, operator Deployment)");
      cluster.installOperator(Duration.ofMinutes(3));
      say(
          "operator Ready; the models volume gets all-MiniLM-L6-v2 (Maven Central) and held-out text");
      Path models = cluster.createNamespaceWithModels(NAMESPACE);
      ModelStore.fill(models, root);
      if (Files.readString(sample).contains("data/training.txt")) {
        say("the sample trains on data/training.txt: 60000 sentences of Debian descriptions");
        ModelStore.fillTrainingText(models, root);
      }
      if (Files.readString(sample).contains("minilm-sections/")) {
        say(
            "the sample serves a classifier: sparsify head trains its head on data/calibration.txt");
        ModelStore.fillClassifier(models, root);
      }
      boolean ranker = Files.readString(sample).contains("minilm-ranker/");
      if (ranker) {
        say(
            "the sample serves a ranker: sparsify head --task ranking trains its head on the pairs"
                + " of data/ranking-train.tsv");
        ModelStore.fillRanker(models, root);
      }
      String ocr =
          Files.readString(sample).contains("ocr-direction/")
              ? "ocr-direction"
              : Files.readString(sample).contains("ocr-recognition/") ? "ocr-recognition" : null;
      boolean images = ocr != null;
      if ("ocr-direction".equals(ocr)) {
        say(
            "the sample serves PaddleOCR's direction classifier (npm) on crops rendered from real"
                + " text: scripts/ocr-direction-data.sh");
        ModelStore.fillOcr(models, root);
      } else if (images) {
        say(
            "the sample serves PaddleOCR's text recognizer (npm) on crops rendered from real"
                + " text: scripts/ocr-recognition-data.sh");
        ModelStore.fillOcrRecognition(models, root);
      }
      cluster.handToPods(models);
      // A ranker's request is one query's documents, an image model's one crop; other models get
      // a sentence per request.
      List<String> traffic =
          ranker
              ? ModelStore.rankerTraffic(models, 60)
              : images ? ModelStore.ocrTraffic(models, ocr, 64) : ModelStore.traffic(models, 64);
      say("kubectl apply -n " + NAMESPACE + " -f " + samplePath);
      cluster.kubectl().ok("apply", "-n", NAMESPACE, "-f", sample.toString());
      String what =
          ranker
              ? "held-out queries, each with its documents"
              : images ? "held-out crops" : "held-out sentences";
      Phase end = follow(cluster, modelName, traffic, what, timeout);
      System.out.println();
      System.out.println(cluster.kubectl().ok("get", "pods", "-A", "-o", "wide"));
      System.out.println(cluster.kubectl().ok("get", "sparsemodels", "-n", NAMESPACE));
      summarize(
          cluster
              .client()
              .resources(SparseModel.class)
              .inNamespace(NAMESPACE)
              .withName(modelName)
              .get());
      if (end == Phase.PROMOTED) {
        exit = 0;
      } else {
        say(
            "did not reach Promoted; diagnostics in "
                + Diagnostics.dump(cluster, root.resolve("e2e/target/demo-diagnostics")));
      }
    }
    say(
        String.format(
            Locale.ROOT,
            "cluster torn down after %d s",
            Duration.between(start, Instant.now()).toSeconds()));
    System.exit(exit);
  }

  /** Prints each change of phase and canary step, with live traffic once the Service exists. */
  private static Phase follow(
      LocalCluster cluster, String name, List<String> traffic, String what, Duration timeout)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    String last = null;
    LoadGenerator load = null;
    try {
      while (Instant.now().isBefore(deadline)) {
        SparseModel model =
            cluster
                .client()
                .resources(SparseModel.class)
                .inNamespace(NAMESPACE)
                .withName(name)
                .get();
        if (load == null) {
          var address = cluster.serviceAddress(NAMESPACE, name);
          if (address != null && "200".equals(LoadGenerator.send(address, name, traffic.get(0)))) {
            say(
                "Service "
                    + name
                    + " answers through its ClusterIP (kube-proxy): sending it v2 infer requests"
                    + " ("
                    + what
                    + "), up to 20 per second");
            // Up to 20 requests a second (one at a time, 50 ms apart): the canary's first step
            // shows its error rate under the sample's 1% (about 380 failure-free requests) in a
            // minute or two.
            load = new LoadGenerator(address, name, traffic, Duration.ofMillis(50));
            say("kubectl get pods -n " + NAMESPACE + " -o wide");
            System.out.println(cluster.kubectl().ok("get", "pods", "-n", NAMESPACE, "-o", "wide"));
          }
        }
        if (model != null && model.getStatus() != null && model.getStatus().getPhase() != null) {
          String line = describe(model);
          if (!Objects.equals(line, last)) {
            say(line);
            last = line;
          }
          Phase phase = model.getStatus().getPhase();
          if (phase.isTerminal()) {
            if (load != null) {
              say("requests sent so far by outcome: " + load.outcomes());
            }
            return phase;
          }
        }
        Thread.sleep(1000);
      }
      say("timed out after " + timeout);
      return null;
    } finally {
      if (load != null) {
        load.close();
      }
    }
  }

  private static boolean trains(SparseModel model) {
    var spec = model.getSpec();
    return (spec.sparsity() != null && spec.sparsity().method() == SparsitySpec.Method.FINETUNE)
        || (spec.quantization() != null
            && spec.quantization().mode() == QuantizationSpec.Mode.INT8_QAT);
  }

  private static String samples(Path root) throws java.io.IOException {
    try (var files = Files.list(root.resolve("manifests/samples"))) {
      return files
          .map(f -> f.getFileName().toString().replaceFirst("\\.yaml$", ""))
          .sorted()
          .toList()
          .toString();
    }
  }

  private static String describe(SparseModel model) {
    Phase phase = model.getStatus().getPhase();
    RolloutStatus rollout = model.getStatus().getRollout();
    String line = "phase " + phase;
    if (phase == Phase.ROLLING_OUT && rollout != null) {
      line +=
          String.format(
              Locale.ROOT,
              ": canary %s at %d%% (step %d)%s",
              rollout.canaryRevision(),
              rollout.canaryWeight(),
              rollout.step(),
              rollout.agreement() == null ? "" : ", agreement " + rollout.agreement());
    } else if (model.getStatus().getHistory() != null
        && !model.getStatus().getHistory().isEmpty()) {
      line +=
          ": "
              + model
                  .getStatus()
                  .getHistory()
                  .get(model.getStatus().getHistory().size() - 1)
                  .message();
    }
    return line;
  }

  private static void summarize(SparseModel model) {
    if (model == null || model.getStatus() == null) {
      return;
    }
    GateStatus gate = model.getStatus().getGate();
    if (gate != null) {
      say(
          String.format(
              Locale.ROOT,
              "gate %s: %s dense %.4f, %s %.4f (drop %.4f, allowed %.4f)",
              gate.verdict(),
              gate.metric(),
              gate.dense(),
              model.getStatus().getEngine() != null
                      && model.getStatus().getEngine().variant() != null
                  ? "served variant"
                  : "sparse",
              gate.sparse(),
              gate.drop(),
              gate.allowedDrop()));
    }
    if (model.getStatus().getPruning() != null) {
      say(
          String.format(
              Locale.ROOT,
              "pruned %d layers to 2:4 with %s (sparsity %.2f)",
              model.getStatus().getPruning().layersPruned(),
              model.getStatus().getPruning().method(),
              model.getStatus().getPruning().achievedSparsity()));
      var tuned = model.getStatus().getPruning().fineTuning();
      if (tuned != null) {
        say(
            String.format(
                Locale.ROOT,
                "fine-tuned for %d steps in %.0f s: fidelity on the Job's held-out sentences"
                    + " %.4f -> %.4f",
                tuned.steps(),
                tuned.seconds(),
                tuned.initialFidelity(),
                tuned.finalFidelity()));
      }
    }
    if (model.getStatus().getVariants() != null) {
      say(
          "variants measured on the serving node pool (opt shape), gate metric "
              + (gate == null ? "" : gate.metric())
              + ":");
      for (var v : model.getStatus().getVariants()) {
        say(
            String.format(
                Locale.ROOT,
                "  %-11s %7.1f/s  %5.2fx dense%s  p50 %7.2f ms  p99 %7.2f ms  spread %.3f  metric %s  %s%s",
                v.name(),
                v.throughput(),
                v.speedup(),
                v.speedupLow() == null || v.speedupHigh() == null
                    ? ""
                    : String.format(
                        Locale.ROOT, " (95%% %.2f-%.2f)", v.speedupLow(), v.speedupHigh()),
                v.latencyMsP50(),
                v.latencyMsP99(),
                v.spread(),
                v.metric(),
                Boolean.TRUE.equals(v.chosen()) ? "CHOSEN: " : "",
                v.reason()));
      }
    }
    if (model.getStatus().getEngine() != null) {
      say(
          "engine "
              + model.getStatus().getEngine().backend()
              + " serving "
              + model.getStatus().getEngine().variant()
              + ", measured speed-up over dense "
              + model.getStatus().getEngine().speedup());
    }
    RolloutStatus rollout = model.getStatus().getRollout();
    if (rollout != null) {
      say(
          "live traffic: agreement with the dense model "
              + rollout.agreement()
              + ", error rate "
              + rollout.errorRate()
              + ", p99 "
              + rollout.p99LatencyMs()
              + " ms; "
              + rollout.message());
    }
  }

  private static void say(String line) {
    System.out.println("[demo " + java.time.LocalTime.now().withNano(0) + "] " + line);
  }
}
