package io.sparserollout.sparsify.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.train.DataParallel;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerEnvironmentTest {
  @Test
  void flagsComeFirst() {
    var worker =
        WorkerEnvironment.resolve(
            3, 2, "zero.ns.svc:29500", Map.of("WORLD_SIZE", "8", "RANK", "5"));
    assertThat(worker).isEqualTo(new DataParallel.Worker(2, 3, "zero.ns.svc", 29500));
  }

  @Test
  void aPyTorchJobsVariablesNameTheWorker() {
    var worker =
        WorkerEnvironment.resolve(
            null,
            null,
            null,
            Map.of(
                "WORLD_SIZE",
                "2",
                "RANK",
                "1",
                "MASTER_ADDR",
                "job-master-0",
                "MASTER_PORT",
                "23456"));
    assertThat(worker).isEqualTo(new DataParallel.Worker(1, 2, "job-master-0", 23456));
  }

  @Test
  void aTrainJobsTorchrunArgumentsNameTheWorker() {
    var worker =
        WorkerEnvironment.resolve(
            null,
            null,
            null,
            Map.of(
                "PET_NNODES", "2",
                "PET_NPROC_PER_NODE", "1",
                "PET_NODE_RANK", "1",
                "PET_MASTER_ADDR", "tune-node-0-0.tune",
                "PET_MASTER_PORT", "29400",
                "JOB_COMPLETION_INDEX", "1"));
    assertThat(worker).isEqualTo(new DataParallel.Worker(1, 2, "tune-node-0-0.tune", 29400));
  }

  @Test
  void anIndexedJobsIndexIsTheRankAndThePortDefaults() {
    var worker =
        WorkerEnvironment.resolve(
            2, null, null, Map.of("JOB_COMPLETION_INDEX", "0", "MASTER_ADDR", "zero"));
    assertThat(worker).isEqualTo(new DataParallel.Worker(0, 2, "zero", 29500));
  }

  @Test
  void aLaterSourceIsReadOnlyWhenAnEarlierOneIsMissing() {
    // WORLD_SIZE wins before an elastic PET_NNODES is looked at; RANK before a bad index.
    var worker =
        WorkerEnvironment.resolve(
            null,
            null,
            null,
            Map.of(
                "WORLD_SIZE", "2",
                "PET_NNODES", "1:4",
                "RANK", "1",
                "JOB_COMPLETION_INDEX", "x",
                "MASTER_ADDR", "zero"));
    assertThat(worker).isEqualTo(new DataParallel.Worker(1, 2, "zero", 29500));
  }

  @Test
  void severalProcessesPerNodeAreRefusedWhateverSaysHowManyWorkers() {
    assertThatThrownBy(
            () ->
                WorkerEnvironment.resolve(
                    2, null, null, Map.of("PET_NPROC_PER_NODE", "8", "PET_NODE_RANK", "0")))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("trainer.numProcPerNode to 1");
  }

  @Test
  void oneWorkerNeedsNothing() {
    assertThat(WorkerEnvironment.resolve(null, null, null, Map.of()))
        .isEqualTo(DataParallel.Worker.SINGLE);
    assertThat(WorkerEnvironment.resolve(null, null, null, Map.of("PET_NNODES", "1")))
        .isEqualTo(DataParallel.Worker.SINGLE);
  }

  @Test
  void whatCannotNameOneWorkerIsRefusedWithTheFix() {
    assertThatThrownBy(
            () ->
                WorkerEnvironment.resolve(
                    null, null, null, Map.of("PET_NNODES", "1:4", "PET_NODE_RANK", "0")))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("elastic range 1:4")
        .hasMessageContaining("trainer.numNodes");
    assertThatThrownBy(
            () ->
                WorkerEnvironment.resolve(
                    null,
                    null,
                    null,
                    Map.of("PET_NNODES", "2", "PET_NPROC_PER_NODE", "4", "PET_NODE_RANK", "0")))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("trainer.numProcPerNode to 1");
    assertThatThrownBy(
            () -> WorkerEnvironment.resolve(null, null, null, Map.of("WORLD_SIZE", "two")))
        .isInstanceOf(SparsifyException.class)
        .hasMessage("WORLD_SIZE must be a whole number, got two");
    assertThatThrownBy(() -> WorkerEnvironment.resolve(2, null, "zero:29500", Map.of()))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("PET_NODE_RANK");
    assertThatThrownBy(() -> WorkerEnvironment.resolve(2, 0, null, Map.of()))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("PET_MASTER_ADDR");
    assertThatThrownBy(() -> WorkerEnvironment.resolve(0, null, null, Map.of()))
        .isInstanceOf(SparsifyException.class)
        .hasMessageContaining("at least 1");
  }
}
