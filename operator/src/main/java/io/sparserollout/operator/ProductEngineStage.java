package io.sparserollout.operator;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sparserollout.api.v1alpha1.EngineStatus;
import io.sparserollout.api.v1alpha1.ProductEngine;
import io.sparserollout.api.v1alpha1.SparseModel;
import io.sparserollout.api.v1alpha1.SparseModelStatus;
import io.sparserollout.operator.events.EventRecorder;
import io.sparserollout.operator.events.EventRecorder.Reason;
import io.sparserollout.operator.pipeline.JobSettings;
import io.sparserollout.operator.pipeline.ProductEngines;
import io.sparserollout.operator.pipeline.Stage;
import io.sparserollout.operator.pipeline.StageContext;
import io.sparserollout.operator.pipeline.StageHandler;
import io.sparserollout.operator.pipeline.StageObservation;
import io.sparserollout.operator.pipeline.StageState;
import io.sparserollout.operator.pipeline.WorkerStates;
import io.sparserollout.operator.placement.GpuInventory;
import io.sparserollout.operator.placement.GpuPlacement;
import io.sparserollout.stage.EngineResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The engine stage on the other GPU products ({@link ProductEngines}), where it talks to the
 * cluster and to status: which products, making their Jobs, recording their results as they come,
 * and stopping them when the stage fails.
 */
final class ProductEngineStage {
  private ProductEngineStage() {}

  /** The qualifying GPU products besides {@code first}, each built for as well. */
  static List<GpuPlacement.OnGpu> others(
      KubernetesClient client, SparseModel model, GpuPlacement.OnGpu first) {
    return GpuInventory.everyProduct(client, model.getSpec().engine()).stream()
        .filter(gpu -> !gpu.product().equals(first.product()))
        .toList();
  }

  /** Engine Jobs of other products made now, and a name another resource holds (or null). */
  record Made(List<String> created, Job taken) {}

  /**
   * Makes the engine Jobs of the other products {@code first} names that are not among {@code
   * seen}: at the start, and again when one is not seen (its creation failed after the first's, or
   * it was deleted). Each on its own product's nodes; one already there is adopted.
   */
  static Made ensure(
      KubernetesClient client,
      SparseModel model,
      SparseModelStatus status,
      String revision,
      Job first,
      Map<String, WorkerStates.Worker> seen,
      JobSettings settings) {
    if (first == null || ProductEngines.expected(first).isEmpty()) {
      return new Made(List.of(), null);
    }
    List<GpuPlacement.OnGpu> missing =
        ProductEngines.expected(first).stream()
            .filter(product -> !seen.containsKey(product))
            .map(product -> GpuPlacement.servingOn(model.getSpec().engine(), product))
            .toList();
    List<String> created = new ArrayList<>();
    for (Job job :
        ProductEngines.jobs(
            StageContext.of(model, revision, status), revision, first, missing, settings)) {
      PipelineProgress.Adopted adopted = PipelineProgress.createOrAdopt(client, model, status, job);
      if (adopted.taken() != null) {
        return new Made(created, adopted.taken());
      }
      if (adopted.created()) {
        created.add(job.getMetadata().getName());
      }
    }
    return new Made(created, null);
  }

  /**
   * Records each result as soon as its Job reports (a pod need not outlive the slowest product's
   * Job), the first product's first; a product whose Job fails serves nothing (a Warning names it)
   * and the others serve on. Done, the stage is recorded complete with the first product's Job and
   * digest. Returns the stage's state.
   */
  static StageState record(
      StatusAggregator statuses,
      SparseModel model,
      SparseModelStatus status,
      StageContext stages,
      StageObservation observed,
      List<String> others,
      Map<Stage, StageState> states,
      EventRecorder events) {
    Job first = observed.jobs().get(Stage.BUILD_ENGINE);
    StageState firstState = states.get(Stage.BUILD_ENGINE);
    // Every expected product has its entry from the start: the set outlives the first Job.
    List<ProductEngine> engines = new ArrayList<>();
    if (status.getEngine() != null && status.getEngine().otherProducts() != null) {
      engines.addAll(status.getEngine().otherProducts());
    }
    Set<String> known = new HashSet<>();
    engines.forEach(e -> known.add(e.gpuProduct()));
    others.stream()
        .filter(p -> !known.contains(p))
        .map(ProductEngine::pending)
        .forEach(engines::add);
    if ((status.getEngine() == null || !status.getEngine().built())
        && firstState instanceof StageState.Succeeded done) {
      StageHandler.of(Stage.BUILD_ENGINE).applyResult(status, stages, done.result());
      String placed = first == null ? null : GpuPlacement.placedOn(first);
      if (placed != null) {
        status.setEngine(status.getEngine().builtOn(placed));
      }
    }
    Map<String, StageState> byProduct = states(observed, others);
    for (int i = 0; i < engines.size(); i++) {
      ProductEngine engine = engines.get(i);
      String product = engine.gpuProduct();
      if (engine.reported()) {
        continue;
      }
      if (byProduct.get(product) instanceof StageState.Succeeded done
          && done.result() instanceof EngineResult result) {
        engines.set(i, ProductEngines.built(stages, product, result));
      } else if (byProduct.get(product) instanceof StageState.Failed failed) {
        engines.set(i, ProductEngine.failed(product, failed.message()));
        events.record(
            model,
            Reason.ENGINE_FAILED_ON_PRODUCT,
            "the engine Job on GPU product "
                + product
                + " failed, so nothing serves there: "
                + failed.message());
      }
    }
    status.setEngine(
        status.getEngine() == null
            ? EngineStatus.pending(engines)
            : status.getEngine().withOtherProducts(engines));
    Set<String> recorded = new HashSet<>();
    engines.stream().filter(ProductEngine::reported).forEach(e -> recorded.add(e.gpuProduct()));
    boolean firstRecorded = status.getEngine().built();
    StageState state =
        ProductEngines.combine(firstState, firstRecorded, others, recorded, byProduct);
    if (state instanceof StageState.Recorded) {
      statuses.complete(status, Stage.BUILD_ENGINE.jobSuffix(), first, status.getEngine().sha256());
    }
    return state;
  }

  /** The other products the stage waits for: its first Job's list, else the one in status. */
  static List<String> expected(SparseModelStatus status, Job first) {
    if (first != null) {
      return ProductEngines.expected(first);
    }
    EngineStatus engine = status.getEngine();
    return engine == null || engine.otherProducts() == null
        ? List.of()
        : engine.otherProducts().stream().map(ProductEngine::gpuProduct).toList();
  }

  /** The other products' engine Jobs still running, deleted: the stage failed. */
  static void stop(KubernetesClient client, StageObservation observed) {
    for (WorkerStates.Worker other : observed.productEngines().values()) {
      if (!WorkerStates.ended(other.job())
          && other.job().getMetadata().getDeletionTimestamp() == null) {
        client.resource(other.job()).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
      }
    }
  }

  /** What each other GPU product's engine Job says; a product whose Job is not seen is absent. */
  private static Map<String, StageState> states(StageObservation observed, List<String> products) {
    Map<String, StageState> states = new HashMap<>();
    for (String product : products) {
      WorkerStates.Worker worker = observed.productEngines().get(product);
      if (worker != null) {
        states.put(product, StageState.observe(worker.job(), worker.pods(), EngineResult.class));
      }
    }
    return states;
  }
}
