package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.Quantity;
import io.sparserollout.api.v1alpha1.ArtifactStore;
import io.sparserollout.api.v1alpha1.AutoscalingSpec;
import io.sparserollout.api.v1alpha1.CanaryStep;
import io.sparserollout.api.v1alpha1.CaptureSpec;
import io.sparserollout.api.v1alpha1.ComputeResources;
import io.sparserollout.api.v1alpha1.DataSource;
import io.sparserollout.api.v1alpha1.EngineSpec;
import io.sparserollout.api.v1alpha1.GateSpec;
import io.sparserollout.api.v1alpha1.ModelSource;
import io.sparserollout.api.v1alpha1.QuantizationSpec;
import io.sparserollout.api.v1alpha1.RolloutSpec;
import io.sparserollout.api.v1alpha1.ShapeProfile;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelSpec;
import io.sparserollout.api.v1alpha1.SparsitySpec;
import io.sparserollout.operator.k8s.OwnedResources;
import io.sparserollout.operator.rollout.GoDuration;
import io.sparserollout.stage.StoreUri;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Rules the CRD schema cannot express (the API server here predates CEL validation): relations
 * between fields. Each problem names the field, as the API server's own messages do.
 */
public final class SpecValidator {
  private SpecValidator() {}

  /** A DNS-1035 label: the Service clients call is named after the SparseModel. */
  private static final Pattern SERVICE_NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");

  /** A Gateway API host name: a DNS-1123 subdomain, or one under a leading wildcard label. */
  private static final Pattern HOSTNAME =
      Pattern.compile("(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** A ServiceAccount name: a DNS-1123 subdomain. */
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** A region name as AWS and S3-compatible stores spell them (eu-west-1, garage, default). */
  private static final Pattern REGION = Pattern.compile("[a-z0-9]([-_a-z0-9]{0,62})");

  /** The longest duration a rollout setting may hold (a year): beyond it time arithmetic fails. */
  private static final Duration LONGEST = Duration.ofDays(365);

  /** Why a plan that fine-tunes cannot hold out part of the calibration file. */
  static final String TRAINED_ON_CALIBRATION_FILE =
      "required by a plan that fine-tunes (method finetune, int8-qat or progressiveSteps): it trains"
          + " on the calibration file, so none of that file is held out";

  /** The problems of the resource's name and of its spec. */
  public static List<String> problems(SparseModel model) {
    List<String> problems = new ArrayList<>();
    String name = model.getMetadata().getName();
    if (name == null || !SERVICE_NAME.matcher(name).matches()) {
      problems.add(
          "metadata.name: must be a DNS-1035 label (lower-case letters, digits and '-', starting"
              + " with a letter, at most 63 characters): the model's Service is named after it");
    }
    problems.addAll(problems(model.getSpec()));
    return problems;
  }

  public static List<String> problems(SparseModelSpec spec) {
    List<String> problems = new ArrayList<>();
    durations(spec.rollout(), problems);
    quantities("spec.rollout.resources", spec.rollout().resources(), problems);
    quantities("spec.fineTuning.resources", spec.fineTuning().resources(), problems);
    Storage.locations(spec)
        .forEach(
            (field, uri) ->
                StoreUri.problem(uri).ifPresent(problem -> problems.add(field + ": " + problem)));
    storeAccess(spec, problems);
    capture(spec, problems);
    capturedSources(spec, problems);
    HeldOutSets.problems(spec, problems);
    Recalibration.problems(spec, problems);
    SparsitySpec sparsity = spec.sparsity();
    boolean needsCalibration =
        sparsity.method() != SparsitySpec.Method.MAGNITUDE
            || spec.quantization().mode() != QuantizationSpec.Mode.NONE;
    if (needsCalibration
        && sparsity.calibration().dataUri() == null
        && !sparsity.calibration().captured()) {
      problems.add(
          "spec.sparsity.calibration.dataUri: required by method "
              + json(sparsity.method())
              + " and quantization mode "
              + json(spec.quantization().mode()));
    }
    TensorData.problems(spec, problems);
    if (spec.evaluation().dataUri() == null
        && !spec.evaluation().hasSets()
        && sparsity.calibration().dataUri() == null
        && !heldOutCaptured(spec)) {
      problems.add("spec.evaluation.dataUri: required when there is no calibration data");
    } else if (spec.evaluation().dataUri() == null
        && !spec.evaluation().hasSets()
        && !heldOutCaptured(spec)
        && Stage.plan(spec).contains(Stage.FINETUNE)) {
      problems.add("spec.evaluation.dataUri: " + TRAINED_ON_CALIBRATION_FILE);
    }
    if (Stage.plan(spec).contains(Stage.FINETUNE)
        && !Boolean.TRUE.equals(spec.fineTuning().distillation())
        && spec.fineTuning().labelsUri() == null
        && spec.source().taskOrDefault() == ModelSource.Task.EMBEDDING) {
      problems.add(
          "spec.fineTuning.labelsUri: required when spec.fineTuning.distillation is false (the"
              + " task loss from labels is then the only loss)");
    }
    taskLimits(spec, problems);
    int workers = spec.fineTuning().workerCount();
    if (workers > 1
        && spec.fineTuning().batchSize() != null
        && spec.fineTuning().batchSize() < workers) {
      problems.add(
          "spec.fineTuning.workers: "
              + workers
              + " workers each train on their share of every batch, so spec.fineTuning.batchSize"
              + " must be at least "
              + workers
              + ", got "
              + spec.fineTuning().batchSize());
    }
    List<SparsitySpec.Pattern> steps = sparsity.progressiveSteps();
    if (steps != null
        && !steps.isEmpty()
        && steps.get(steps.size() - 1) != SparsitySpec.Pattern.TWO_FOUR) {
      problems.add("spec.sparsity.progressiveSteps: must end with \"2:4\"");
    }
    for (String field : List.of("include", "exclude")) {
      List<String> patterns =
          field.equals("include") ? sparsity.layers().include() : sparsity.layers().exclude();
      for (String regex : patterns == null ? List.<String>of() : patterns) {
        try {
          Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
          problems.add("spec.sparsity.layers." + field + ": invalid regular expression " + regex);
        }
      }
    }
    EngineSpec engine = spec.engine();
    if (engine.precision() == EngineSpec.Precision.INT8
        && engine.backend() == EngineSpec.Backend.TENSORRT
        && spec.quantization().mode() == QuantizationSpec.Mode.NONE) {
      problems.add(
          "spec.engine.precision: int8 needs explicit Q/DQ: set spec.quantization.mode to int8-ptq"
              + " or int8-qat");
    }
    ShapeProfile s = engine.shapes();
    if (s.minBatch() > s.optBatch() || s.optBatch() > s.maxBatch()) {
      problems.add("spec.engine.shapes: minBatch <= optBatch <= maxBatch does not hold");
    }
    if (s.minSequence() > s.optSequence() || s.optSequence() > s.maxSequence()) {
      problems.add("spec.engine.shapes: minSequence <= optSequence <= maxSequence does not hold");
    }
    GateSpec.Metric metric = spec.gate().metric();
    boolean taskMetric =
        metric == GateSpec.Metric.ACCURACY
            || metric == GateSpec.Metric.NDCG
            || metric == GateSpec.Metric.PNR;
    if (taskMetric && heldOutCaptured(spec)) {
      problems.add(
          "spec.gate.metric: "
              + json(metric)
              + " needs labels, and the captured samples evaluation holds out have none; gate on"
              + " cosine-fidelity, top1-agreement or topk-agreement, or evaluate on a labelled"
              + " file");
    } else if (taskMetric
        && spec.evaluation().labelsUri() == null
        && !spec.evaluation().hasSets()) {
      problems.add("spec.evaluation.labelsUri: required by gate metric " + json(metric));
    }
    if (spec.rollout().analysis().prometheusUrl() != null) {
      problems.add(
          "spec.rollout.analysis.prometheusUrl: no longer accepted: name a Prometheus the operator"
              + " allows in spec.rollout.analysis.prometheus (the ConfigMap"
              + " sparserollout-prometheus-providers in the operator's namespace)");
    }
    var gateway = spec.rollout().gateway();
    for (String host :
        gateway == null || gateway.hostnames() == null ? List.<String>of() : gateway.hostnames()) {
      if (host == null || host.length() > 253 || !HOSTNAME.matcher(host).matches()) {
        problems.add(
            "spec.rollout.gateway.hostnames: "
                + host
                + " is not a host name (DNS-1123 subdomain, optionally starting with \"*.\")");
      }
    }
    if (gateway != null
        && gateway.grpcSectionName() != null
        && (gateway.sectionName() == null
            || gateway.sectionName().equals(gateway.grpcSectionName()))) {
      problems.add(
          "spec.rollout.gateway.grpcSectionName: needs spec.rollout.gateway.sectionName set to"
              + " another listener: the HTTPRoute would attach to the gRPC listener too, and the"
              + " Gateway API accepts only one of an HTTPRoute and a GRPCRoute sharing a"
              + " listener's host names");
    }
    Integer extra = spec.rollout().maxExtraReplicas();
    // With autoscaling the HPA sets replicas anywhere from minReplicas up: judged at the fewest,
    // so the HPA's own write can never make the spec invalid.
    AutoscalingSpec scaling = spec.rollout().autoscaling();
    int fewest = scaling == null ? spec.rollout().replicas() : scaling.fewest();
    if (extra != null && spec.rollout().replicas() > 0 && fewest + extra < 2) {
      problems.add(
          "spec.rollout.maxExtraReplicas: "
              + extra
              + " with "
              + fewest
              + (scaling == null ? " replica" : " replica (autoscaling.minReplicas)")
              + " leaves no room for a canary pod beside the stable's (replicas +"
              + " maxExtraReplicas must be at least 2)");
    }
    if (extra != null
        && extra == 0
        && spec.rollout().trafficMode() == RolloutSpec.TrafficMode.GATEWAY_API) {
      problems.add(
          "spec.rollout.maxExtraReplicas: 0 with trafficMode gateway-api: the HTTPRoute moves"
              + " traffic by weight, so the stable keeps a pod while its weight is above 0 and"
              + " the canary needs room beside it; give 1 or more");
    }
    autoscaling(spec.rollout(), problems);
    selection(spec, problems);
    if (spec.rollout().trafficMode() == RolloutSpec.TrafficMode.GATEWAY_API
        && spec.rollout().gateway() == null) {
      problems.add(
          "spec.rollout.gateway: required by trafficMode gateway-api (the Gateway the HTTPRoute"
              + " attaches to)");
    }
    return problems;
  }

  private static void selection(SparseModelSpec spec, List<String> problems) {
    var selection = Variants.selection(spec);
    if (selection.policy() != io.sparserollout.api.v1alpha1.SelectionSpec.Policy.PINNED) {
      return;
    }
    List<String> allowed = Variants.allowed(spec);
    if (selection.variant() == null) {
      problems.add("spec.selection.variant: required by policy pinned: one of " + allowed);
    } else if (!allowed.contains(selection.variant())) {
      problems.add(
          "spec.selection.variant: "
              + selection.variant()
              + " is not built by this spec (backend "
              + json(spec.engine().backend())
              + ", quantization "
              + json(spec.quantization().mode())
              + "): one of "
              + allowed);
    } else if (selection.requireSparse()
        && !selection.variant().startsWith(io.sparserollout.stage.VariantModel.SPARSE)) {
      problems.add(
          "spec.selection: requireSparse contradicts the pinned dense variant "
              + selection.variant());
    }
  }

  private static void autoscaling(RolloutSpec rollout, List<String> problems) {
    AutoscalingSpec scaling = rollout.autoscaling();
    if (scaling == null) {
      return;
    }
    if (scaling.fewest() > scaling.maxReplicas()) {
      problems.add(
          "spec.rollout.autoscaling: minReplicas "
              + scaling.fewest()
              + " is above maxReplicas "
              + scaling.maxReplicas());
    }
  }

  private static void storeAccess(SparseModelSpec spec, List<String> problems) {
    ArtifactStore store = spec.artifactStore();
    boolean s3 = Storage.uris(spec).stream().anyMatch(u -> u != null && u.startsWith("s3://"));
    if (s3 && store.credentialsSecret() == null && store.serviceAccountName() == null) {
      problems.add(
          "spec.artifactStore.credentialsSecret: required for s3:// locations (a Secret with"
              + " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), unless"
              + " spec.artifactStore.serviceAccountName brings web-identity or pod-identity"
              + " credentials");
    }
    if (store.serviceAccountName() != null
        && !SUBDOMAIN.matcher(store.serviceAccountName()).matches()) {
      problems.add(
          "spec.artifactStore.serviceAccountName: must be a ServiceAccount name (a DNS-1123"
              + " subdomain)");
    }
    if (store.region() != null && !REGION.matcher(store.region()).matches()) {
      problems.add(
          "spec.artifactStore.region: must be a region name such as eu-west-1 (lower-case"
              + " letters, digits, '-' and '_')");
    }
    if (store.endpoint() == null || store.endpoint().isBlank()) {
      return; // AWS S3
    }
    URI endpoint;
    try {
      endpoint = new URI(store.endpoint());
    } catch (URISyntaxException e) {
      endpoint = null;
    }
    boolean http = endpoint != null && "http".equals(endpoint.getScheme());
    if (endpoint == null
        || endpoint.getHost() == null
        || !(http || "https".equals(endpoint.getScheme()))) {
      problems.add("spec.artifactStore.endpoint: must be an https:// URL with a host");
    } else if (http && !Boolean.TRUE.equals(store.allowInsecureHttp())) {
      problems.add(
          "spec.artifactStore.endpoint: plain http sends credentials and artifacts in clear; use"
              + " https, or set spec.artifactStore.allowInsecureHttp: true");
    }
  }

  /**
   * Whether evaluation compares on captured samples (its own source, or calibration's); named sets
   * say it each for themselves (HeldOutSets).
   */
  private static boolean heldOutCaptured(SparseModelSpec spec) {
    return !spec.evaluation().hasSets() && HeldOutSets.readsCaptured(spec);
  }

  private static void capturedSources(SparseModelSpec spec, List<String> problems) {
    boolean calibration = spec.sparsity().calibration().captured();
    boolean evaluation = spec.evaluation().captured();
    if ((calibration || evaluation) && spec.rollout().capture() == null) {
      problems.add(
          (calibration ? "spec.sparsity.calibration.source" : "spec.evaluation.source")
              + ": captured, but nothing is captured for this model; set spec.rollout.capture");
    }
    if (spec.sparsity().calibration().mixed() && spec.sparsity().calibration().dataUri() == null) {
      problems.add(
          "spec.sparsity.calibration.dataUri: required by source mixed (half the samples come from"
              + " it)");
    }
    if (evaluation && spec.evaluation().dataUri() != null) {
      problems.add(
          "spec.evaluation.dataUri: unused with source captured; remove it, or evaluate on the"
              + " file (source file)");
    }
    if (spec.evaluation().source() == DataSource.MIXED) {
      problems.add(
          "spec.evaluation.source: mixed is for calibration; evaluation reads file or captured");
    }
    if (calibration && Stage.plan(spec).contains(Stage.FINETUNE)) {
      problems.add(
          "spec.sparsity.calibration.source: fine-tuning (method finetune, int8-qat or"
              + " progressiveSteps) trains on the sentences of a file; captured samples cannot"
              + " train yet");
    }
    if (heldOutCaptured(spec) && spec.evaluation().labelsUri() != null) {
      problems.add(
          "spec.evaluation.labelsUri: captured samples have no labels; evaluate them on fidelity"
              + " metrics, or give an evaluation file with its labels");
    }
  }

  private static void capture(SparseModelSpec spec, List<String> problems) {
    CaptureSpec capture = spec.rollout().capture();
    if (capture == null) {
      return;
    }
    if (!spec.artifactStore().uri().startsWith("pvc://")) {
      problems.add(
          "spec.rollout.capture: needs a pvc:// artifact store (the serving pods write the samples"
              + " to their own folder of the claim); capture to s3:// is not supported");
    }
    String retention = capture.retentionOrDefault();
    duration("spec.rollout.capture.retention", retention, problems);
    if (retention != null
        && retention.matches(CanaryStep.DURATION_PATTERN)
        && GoDuration.parse(retention).compareTo(Duration.ofHours(1)) < 0) {
      problems.add(
          "spec.rollout.capture.retention: "
              + retention
              + " is under an hour; samples are kept and deleted by whole clock hours");
    }
  }

  private static void durations(RolloutSpec rollout, List<String> problems) {
    duration("spec.rollout.progressDeadline", rollout.progressDeadline(), problems);
    duration("spec.rollout.analysis.interval", rollout.analysis().interval(), problems);
    duration(
        "spec.rollout.analysis.inconclusiveLimit",
        rollout.analysis().inconclusiveLimit(),
        problems);
    duration("spec.rollout.analysis.driftWindow", rollout.analysis().driftWindow(), problems);
    List<CanaryStep> steps = rollout.canary().steps();
    for (int i = 0; steps != null && i < steps.size(); i++) {
      duration("spec.rollout.canary.steps[" + i + "].pause", steps.get(i).pause(), problems);
    }
  }

  private static void duration(String field, String text, List<String> problems) {
    if (text == null) {
      return;
    }
    try {
      if (GoDuration.parse(text).compareTo(LONGEST) > 0) {
        problems.add(field + ": " + text + " is longer than a year");
      }
    } catch (RuntimeException e) {
      problems.add(field + ": " + text + " is not a duration this operator can use");
    }
  }

  private static void quantities(String field, ComputeResources resources, List<String> problems) {
    if (resources == null) {
      return;
    }
    if (resources.requests() != null && resources.limits() != null) {
      resources
          .requests()
          .forEach(
              (resource, request) -> {
                Quantity limit = resources.limits().get(resource);
                try {
                  if (limit != null && OwnedResources.above(request, limit)) {
                    problems.add(
                        field
                            + ".requests."
                            + resource
                            + ": "
                            + request
                            + " is above its limit "
                            + limit
                            + " (the cluster refuses such a pod)");
                  }
                } catch (RuntimeException notAQuantity) {
                  // Reported below.
                }
              });
    }
    for (var entry :
        java.util.stream.Stream.of(resources.requests(), resources.limits()).toList()) {
      if (entry == null) {
        continue;
      }
      entry.forEach(
          (resource, quantity) -> {
            try {
              Quantity.getAmountInBytes(quantity);
            } catch (RuntimeException e) {
              problems.add(field + "." + resource + ": " + quantity + " is not a quantity");
            }
          });
    }
  }

  static String json(Enum<?> value) {
    try {
      return "\""
          + value
              .getDeclaringClass()
              .getField(value.name())
              .getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class)
              .value()
          + "\"";
    } catch (NoSuchFieldException e) {
      return value.name();
    }
  }

  /**
   * What a task cannot have (yet), each with the reason and what to use instead. An embedding's
   * top-1 agreement (nearest neighbours) is not in the per-set result the stage reports, which must
   * fit the 4 KB termination message.
   */
  private static void taskLimits(SparseModelSpec spec, List<String> problems) {
    GateSpec.Metric metric = spec.gate().metric();
    if (spec.source().taskOrDefault() == ModelSource.Task.RANKING) {
      ranker(spec, problems);
    }
    if (spec.source().taskOrDefault() == ModelSource.Task.TENSOR) {
      rawOutputs(spec, problems);
      return;
    }
    if (spec.source().taskOrDefault() != ModelSource.Task.CLASSIFICATION) {
      if (metric == GateSpec.Metric.TOP1_AGREEMENT && spec.evaluation().hasSets()) {
        problems.add(
            "spec.gate.metric: \"top1-agreement\" with named evaluation sets is a classifier's"
                + " metric (spec.source.task classification); gate an embedding's or a ranker's"
                + " sets on topk-agreement or cosine-fidelity (a ranker's also on ndcg or pnr)");
      }
      return;
    }
    if (metric == GateSpec.Metric.NDCG || metric == GateSpec.Metric.PNR) {
      problems.add(
          "spec.gate.metric: "
              + json(metric)
              + " ranks embeddings by similarity; gate a classifier (spec.source.task"
              + " classification) on accuracy, top1-agreement, topk-agreement or cosine-fidelity");
    }
    if (Stage.plan(spec).contains(Stage.FINETUNE)
        && !Boolean.TRUE.equals(spec.fineTuning().distillation())) {
      problems.add(
          "spec.fineTuning.distillation: a classifier (spec.source.task classification) is"
              + " fine-tuned by distilling the dense model's logits: leave distillation on");
    } else if (Stage.plan(spec).contains(Stage.FINETUNE) && spec.fineTuning().labelsUri() != null) {
      problems.add(
          "spec.fineTuning.labelsUri: a classifier (spec.source.task classification) is"
              + " fine-tuned by distilling the dense model's logits; a task loss from labels is"
              + " for encoders only, not yet for classifiers");
    }
  }

  /**
   * A model of raw outputs (a detector's maps, a recognizer's sequences) has no classes, neighbours
   * or labels: only its outputs' cosine to the dense model's can gate it, and no loss distils such
   * outputs yet, so it is pruned one-shot.
   */
  private static void rawOutputs(SparseModelSpec spec, List<String> problems) {
    String what = "a model of raw outputs (spec.source.task tensor)";
    if (spec.gate().metric() != GateSpec.Metric.COSINE_FIDELITY) {
      problems.add(
          "spec.gate.metric: "
              + json(spec.gate().metric())
              + " needs classes, neighbours or labels, which "
              + what
              + " has not; gate it on cosine-fidelity (the mean cosine of its worst output)");
    }
    if (spec.evaluation().labelsUri() != null) {
      problems.add("spec.evaluation.labelsUri: " + what + " has no labels to be scored against");
    }
    if (spec.evaluation().hasSets()) {
      for (int i = 0; i < spec.evaluation().sets().size(); i++) {
        if (spec.evaluation().sets().get(i).labelsUri() != null) {
          problems.add(
              "spec.evaluation.sets["
                  + i
                  + "].labelsUri: "
                  + what
                  + " has no labels to be scored against");
        }
      }
    }
    if (Stage.plan(spec).contains(Stage.FINETUNE)) {
      problems.add(
          "spec.sparsity.method: "
              + what
              + " is not fine-tuned yet (no loss distils its outputs): prune it one-shot, method"
              + " sparsegpt or magnitude, with no progressiveSteps and no int8-qat");
    }
  }

  /**
   * A ranker's samples are (query, document) pairs and its output one score per pair: it is
   * fine-tuned by distilling its scores (no task loss from labels), and captured requests do not
   * say which query a pair answers.
   */
  private static void ranker(SparseModelSpec spec, List<String> problems) {
    if (Stage.plan(spec).contains(Stage.FINETUNE)
        && !Boolean.TRUE.equals(spec.fineTuning().distillation())) {
      problems.add(
          "spec.fineTuning.distillation: a ranker (spec.source.task ranking) is fine-tuned by"
              + " distilling the dense model's scores: leave distillation on");
    } else if (Stage.plan(spec).contains(Stage.FINETUNE) && spec.fineTuning().labelsUri() != null) {
      problems.add(
          "spec.fineTuning.labelsUri: a ranker (spec.source.task ranking) is fine-tuned by"
              + " distilling the dense model's scores; a task loss from labels is for encoders"
              + " only");
    }
    if (HeldOutSets.readsCaptured(spec)) {
      problems.add(
          "spec.evaluation.source: a ranker (spec.source.task ranking) is evaluated one query's"
              + " documents at a time, and captured requests do not say which query each pair"
              + " belongs to; evaluate on a file of query<TAB>document lines (spec.evaluation"
              + ".dataUri)");
    }
  }
}
