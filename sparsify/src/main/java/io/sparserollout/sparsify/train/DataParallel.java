package io.sparserollout.sparsify.train;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TokenBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

/**
 * Data-parallel training across worker processes through PyTorch's c10d with the Gloo backend
 * (CPU): each worker trains on its share of every global batch, and the workers add up their loss
 * denominators before the loss and their gradients after it, so every worker takes the optimizer
 * step one worker would take on the whole batch and the weights stay identical everywhere. Rank 0
 * runs the rendezvous store and writes checkpoints and the output. A single worker (the default)
 * adds up nothing.
 */
public final class DataParallel implements AutoCloseable {
  /** This process's place: {@code rank} of {@code workers}, meeting at master host and port. */
  public record Worker(int rank, int workers, String masterHost, int masterPort) {
    public static final Worker SINGLE = new Worker(0, 1, null, 0);

    public Worker {
      if (workers < 1) {
        throw new SparsifyException("the number of workers must be at least 1, got " + workers);
      }
      if (rank < 0 || rank >= workers) {
        throw new SparsifyException("rank " + rank + " is not one of " + workers + " workers");
      }
      if (workers > 1
          && (masterHost == null || masterHost.isBlank() || masterPort < 1 || masterPort > 65535)) {
        throw new SparsifyException(
            workers
                + " workers need the rendezvous address (--master HOST:PORT or MASTER_ADDR"
                + " and MASTER_PORT)");
      }
    }

    boolean leader() {
      return rank == 0;
    }
  }

  private final Worker worker;
  private final TCPStore store;
  private final ProcessGroupGloo group;
  private long gradientExchanges;
  private long gradientBytes;
  private long gradientNanos;

  private DataParallel(Worker worker, TCPStore store, ProcessGroupGloo group) {
    this.worker = worker;
    this.store = store;
    this.group = group;
  }

  /** Joins the worker set (waits up to {@code timeout} for all of it); SINGLE joins nothing. */
  public static DataParallel join(Worker worker, Duration timeout) {
    if (worker.workers() == 1) {
      return new DataParallel(worker, null, null);
    }
    Milliseconds limit = new Milliseconds(timeout.toMillis());
    try {
      TCPStoreOptions options = new TCPStoreOptions();
      options.port((short) worker.masterPort());
      options.isServer(worker.leader());
      options.timeout(limit);
      TCPStore store = new TCPStore(worker.masterHost(), options);
      ProcessGroupGloo.Options gloo = ProcessGroupGloo.Options.create(limit);
      String iface = System.getenv("GLOO_SOCKET_IFNAME");
      gloo.devices(
          new GlooDeviceVector(
              iface != null && !iface.isBlank()
                  ? ProcessGroupGloo.createDeviceForInterface(iface)
                  : ProcessGroupGloo.createDeviceForHostname(localAddress(worker, timeout))));
      return new DataParallel(
          worker, store, new ProcessGroupGloo(store, worker.rank(), worker.workers(), gloo));
    } catch (RuntimeException e) {
      throw new SparsifyException(
          "worker "
              + worker.rank()
              + " of "
              + worker.workers()
              + " could not join the others at "
              + worker.masterHost()
              + ":"
              + worker.masterPort()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The address other workers reach this one at: the one this host would send from towards the
   * master (a UDP socket's route; no packet is sent), not the host name's, which Debian maps to
   * 127.0.1.1. GLOO_SOCKET_IFNAME, when set, names the interface instead. The master's name is
   * looked up again until {@code timeout}: a Service created just before this pod started can take
   * a few seconds to reach the cluster DNS.
   */
  private static String localAddress(Worker worker, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (java.net.DatagramSocket probe = new java.net.DatagramSocket()) {
        probe.connect(java.net.InetAddress.getByName(worker.masterHost()), worker.masterPort());
        return probe.getLocalAddress().getHostAddress();
      } catch (java.net.UnknownHostException e) {
        if (System.nanoTime() > deadline) {
          throw new SparsifyException(
              "the master's name " + worker.masterHost() + " does not resolve: " + e.getMessage(),
              e);
        }
        sleep(Duration.ofSeconds(2));
      } catch (java.io.IOException e) {
        throw new SparsifyException(
            "cannot find the address this worker reaches "
                + worker.masterHost()
                + " from: "
                + e.getMessage(),
            e);
      }
    }
  }

  private static void sleep(Duration pause) {
    try {
      Thread.sleep(pause.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SparsifyException("interrupted while waiting for the master's name", e);
    }
  }

  Worker worker() {
    return worker;
  }

  boolean leader() {
    return worker.leader();
  }

  /**
   * This worker's share of the training data: a contiguous slice of the rows of every batch, with
   * the batch's padding. Batches with fewer rows than workers are left out, on every worker alike.
   */
  TrainingData share(TrainingData data) {
    if (worker.workers() == 1) {
      return data;
    }
    List<Batch> batches = new ArrayList<>();
    List<int[]> labels = new ArrayList<>();
    for (int i = 0; i < data.batches().size(); i++) {
      Batch batch = data.batches().get(i);
      if (batch.size() < worker.workers()) {
        continue;
      }
      int from = worker.rank() * batch.size() / worker.workers();
      int to = (worker.rank() + 1) * batch.size() / worker.workers();
      batches.add(
          batch instanceof TokenBatch tokens
              ? rows(tokens, from, to)
              : rows((TensorBatch) batch, from, to));
      if (data.labelled()) {
        labels.add(Arrays.copyOfRange(data.labels().get(i), from, to));
      }
    }
    if (batches.isEmpty()) {
      throw new SparsifyException(
          "every training batch has fewer sentences than the " + worker.workers() + " workers");
    }
    return new TrainingData(batches, data.classes(), labels);
  }

  private static TokenBatch rows(TokenBatch batch, int from, int to) {
    int length = batch.length();
    return new TokenBatch(
        to - from,
        length,
        Arrays.copyOfRange(batch.ids(), from * length, to * length),
        Arrays.copyOfRange(batch.attentionMask(), from * length, to * length),
        Arrays.copyOfRange(batch.typeIds(), from * length, to * length));
  }

  /** Samples {@code from} to {@code to} of every input: views of the same buffers. */
  private static TensorBatch rows(TensorBatch batch, int from, int to) {
    Map<String, TensorBatch.Input> inputs = new LinkedHashMap<>();
    batch
        .inputs()
        .forEach(
            (name, input) -> {
              long[] shape = input.shape().clone();
              long elements = 1;
              for (int d = 1; d < shape.length; d++) {
                elements *= shape[d];
              }
              int row = Math.toIntExact(elements);
              shape[0] = to - from;
              inputs.put(
                  name,
                  new TensorBatch.Input(
                      shape,
                      input
                          .values()
                          .duplicate()
                          .position(input.values().position() + from * row)
                          .limit(input.values().position() + to * row)
                          .slice()));
            });
    return new TensorBatch(to - from, inputs);
  }

  /** The element-wise sum of {@code values} over all workers. */
  double[] sum(double[] values) {
    if (group == null) {
      return values;
    }
    Tensor total = Tensor.create(values, values.length);
    exchange(new TensorVector(total), "the loss");
    return TorchTensors.toDoubles(total);
  }

  /** Replaces every parameter's gradient by its sum over all workers (one flat all-reduce). */
  void sumGradients(List<Tensor> parameters) {
    if (group == null) {
      return;
    }
    // A parameter without a gradient this step contributes zeros: the flat size is the same on
    // every worker whatever ran.
    List<Tensor> grads = parameters.stream().map(Tensor::grad).toList();
    Tensor[] parts = new Tensor[grads.size()];
    for (int i = 0; i < parts.length; i++) {
      Tensor g = grads.get(i);
      parts[i] = g.defined() ? g.reshape(-1) : torch.zeros_like(parameters.get(i)).reshape(-1);
    }
    Tensor flat = torch.cat(new TensorVector(parts));
    long started = System.nanoTime();
    exchange(new TensorVector(flat), "the gradients");
    gradientNanos += System.nanoTime() - started;
    gradientBytes = flat.numel() * 4;
    gradientExchanges++;
    long offset = 0;
    for (int i = 0; i < parts.length; i++) {
      long n = parts[i].numel();
      if (grads.get(i).defined()) {
        grads.get(i).copy_(flat.narrow(0, offset, n).view_as(grads.get(i)));
      }
      offset += n;
    }
  }

  /** Sums {@code tensors} over the workers in place; a lost worker fails this one clearly. */
  private void exchange(TensorVector tensors, String what) {
    // The Work is freed here, not by the garbage collector after the group it points to is gone.
    try (Work work = group.allreduce(tensors)) {
      work._wait();
    } catch (RuntimeException e) {
      throw new SparsifyException(
          "worker "
              + worker.rank()
              + " lost contact with the other workers while adding up "
              + what
              + " ("
              + String.valueOf(e.getMessage()).replaceAll("^\\[[^]]*\\] ", "")
              + "): start the whole set again; it resumes from the last checkpoint",
          e);
    }
  }

  /**
   * Fails unless every worker holds the same values as worker 0 (the step it resumed at, its
   * options, the shape of its data): workers started unlike would otherwise exchange mismatched
   * sums. Exact for whole numbers up to 2^53.
   */
  void agree(String what, long... values) {
    if (group == null) {
      return;
    }
    double[] mine = java.util.Arrays.stream(values).asDoubleStream().toArray();
    double[] leaders = sum(worker.leader() ? mine.clone() : new double[mine.length]);
    double[] gaps = new double[mine.length];
    for (int i = 0; i < mine.length; i++) {
      gaps[i] = Math.abs(mine[i] - leaders[i]);
    }
    double[] total = sum(gaps);
    if (java.util.Arrays.stream(total).anyMatch(g -> g != 0)) {
      throw new SparsifyException(
          "the workers were not started alike: they disagree on "
              + what
              + " (this one has "
              + java.util.Arrays.toString(values)
              + ", worker 0 "
              + java.util.Arrays.toString(
                  java.util.Arrays.stream(leaders).mapToLong(v -> (long) v).toArray())
              + ")");
    }
  }

  /**
   * The last exchange: every worker says whether its part of the end ({@code what}) succeeded, so
   * none reports success while worker 0 failed to write the output.
   */
  void confirm(boolean succeeded, String what) {
    if (group == null) {
      return;
    }
    double[] total = sum(new double[] {succeeded ? 1 : 0});
    if (succeeded && total[0] < worker.workers()) {
      throw new SparsifyException("another worker failed " + what);
    }
  }

  /** What adding up the gradients cost per step, for the log; empty for a single worker. */
  String exchangeSummary() {
    if (gradientExchanges == 0) {
      return "";
    }
    return String.format(
        "added up %.1f MB of gradients per step with %d other workers in %.1f ms on average",
        gradientBytes / 1e6, worker.workers() - 1, gradientNanos / 1e6 / gradientExchanges);
  }

  @Override
  public void close() {
    if (group != null) {
      group.close();
      store.close();
    }
  }
}
