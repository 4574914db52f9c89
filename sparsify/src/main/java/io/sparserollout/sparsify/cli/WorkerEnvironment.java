package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.train.DataParallel;
import java.util.Map;

/**
 * Which data-parallel worker this process is: the command-line flags first, then what the usual
 * launchers put in the environment. Kubeflow's PyTorchJob and torchrun's workers get {@code
 * WORLD_SIZE}, {@code RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}; Kubeflow Trainer's TrainJob
 * (torch runtime) gets torchrun's own arguments as {@code PET_NNODES}, {@code PET_NODE_RANK},
 * {@code PET_MASTER_ADDR}, {@code PET_MASTER_PORT}, {@code PET_NPROC_PER_NODE}; an Indexed Job gets
 * {@code JOB_COMPLETION_INDEX}. A sparsify worker is one process per node (its threads use the
 * node's cores), so a node rank is a worker rank.
 */
final class WorkerEnvironment {
  static final int DEFAULT_PORT = 29500;

  private WorkerEnvironment() {}

  /**
   * @param workers {@code --workers}, or null
   * @param rank {@code --rank}, or null
   * @param master {@code --master HOST:PORT}, or null
   */
  static DataParallel.Worker resolve(
      Integer workers, Integer rank, String master, Map<String, String> env) {
    onePerNode(env);
    int size =
        workers != null
            ? workers
            : present(env, "WORLD_SIZE") ? number(env, "WORLD_SIZE") : trainerNodes(env);
    if (size < 1) {
      throw new SparsifyException("--workers must be at least 1, got " + size);
    }
    if (size == 1) {
      return DataParallel.Worker.SINGLE;
    }
    int index = rank != null ? rank : rank(env);
    if (index < 0) {
      throw new SparsifyException(
          size
              + " workers each need their own rank: give --rank (or RANK or PET_NODE_RANK, or run"
              + " as an Indexed Job)");
    }
    String address = master != null ? master : address(env);
    if (address == null || !address.matches("[^:]+:\\d{1,5}")) {
      throw new SparsifyException(
          size
              + " workers need the rendezvous address as HOST:PORT (--master, or MASTER_ADDR and"
              + " MASTER_PORT, or PET_MASTER_ADDR and PET_MASTER_PORT); got "
              + address);
    }
    int colon = address.lastIndexOf(':');
    return new DataParallel.Worker(
        index, size, address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  /** The first of RANK, PET_NODE_RANK, JOB_COMPLETION_INDEX that is set; -1 when none is. */
  private static int rank(Map<String, String> env) {
    for (String name : new String[] {"RANK", "PET_NODE_RANK", "JOB_COMPLETION_INDEX"}) {
      if (present(env, name)) {
        return number(env, name);
      }
    }
    return -1;
  }

  /** A launcher that starts several processes per node expects each to be a worker: refused. */
  private static void onePerNode(Map<String, String> env) {
    String perNode = blankToNull(env.get("PET_NPROC_PER_NODE"));
    if (perNode != null && perNode.strip().matches("\\d+") && !perNode.strip().equals("1")) {
      throw new SparsifyException(
          "PET_NPROC_PER_NODE is "
              + perNode.strip()
              + ", but a sparsify worker is one process per node (its threads use the node's"
              + " cores): set the TrainJob's trainer.numProcPerNode to 1");
    }
  }

  /** A TrainJob's node count: one sparsify worker per node, a fixed count. */
  private static int trainerNodes(Map<String, String> env) {
    String nodes = blankToNull(env.get("PET_NNODES"));
    if (nodes == null) {
      return 1;
    }
    if (nodes.contains(":")) {
      throw new SparsifyException(
          "PET_NNODES is the elastic range "
              + nodes
              + ": sparsify workers are a fixed number (set the TrainJob's trainer.numNodes)");
    }
    return number(env, "PET_NNODES");
  }

  private static String address(Map<String, String> env) {
    for (String prefix : new String[] {"", "PET_"}) {
      String host = blankToNull(env.get(prefix + "MASTER_ADDR"));
      if (host != null) {
        String port = blankToNull(env.get(prefix + "MASTER_PORT"));
        return host.strip() + ":" + (port == null ? DEFAULT_PORT : port.strip());
      }
    }
    return null;
  }

  private static boolean present(Map<String, String> env, String name) {
    return blankToNull(env.get(name)) != null;
  }

  private static int number(Map<String, String> env, String name) {
    String value = env.get(name);
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new SparsifyException(name + " must be a whole number, got " + value);
    }
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }
}
