package io.sparserollout.serving;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.sparserollout.serving.backend.InferenceBackend;
import io.sparserollout.serving.protocol.RawTensors;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.stage.ServingMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.lang.reflect.Array;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Server-side dynamic batching, as Triton does it: requests whose inputs agree on every dimension
 * but the first are run together, up to {@code max-batch-size} rows; while others are queued, the
 * batch waits at most {@code max-queue-delay} for more. The queue is bounded: a full queue refuses
 * at once (429) rather than growing memory. At low load a lone short request may instead run at
 * once on the thread that parsed it ({@link #runAtOnceIfIdle}).
 */
@Startup
@ApplicationScoped
public class Batcher {
  /** A request refused because the queue is full. */
  public static final class QueueFull extends RuntimeException {
    QueueFull(String message) {
      super(message);
    }
  }

  /**
   * A request refused, or left over, because the server is stopping (503, not the model's failure):
   * the client retries on another replica.
   */
  public static final class ShuttingDown extends RuntimeException {
    ShuttingDown() {
      super("the server is shutting down; retry on another replica");
    }
  }

  private record Pending(
      List<Tensor> inputs,
      long rows,
      String signature,
      long queuedAt,
      CompletableFuture<Map<String, Tensor>> result) {}

  private final InferenceBackend backend;
  private final int maxBatch;
  private final long maxDelayNanos;
  private final BlockingQueue<Pending> queue;
  private final boolean batchable;
  private final DistributionSummary batchSizes;
  private final Timer queueTime;
  private final Timer computeTime;
  private final long inlineMaxRunNanos;

  /** Requests taken and not yet answered: the in-flight gauge. */
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * Bytes of tensors queued or running, and their budget: a count alone lets 16 MiB each pile up.
   */
  private final java.util.concurrent.atomic.AtomicLong queuedBytes =
      new java.util.concurrent.atomic.AtomicLong();

  private final long maxQueueBytes;

  /** One model run at a time, whether the worker's or one run at once. */
  private final Semaphore model = new Semaphore(1);

  /** Recent model time per row (moving average), -1 until a run was timed. */
  private volatile long nanosPerRow = -1;

  private final Thread worker;
  private volatile boolean running = true;
  private Pending carried;

  @Inject
  public Batcher(
      ModelService model,
      @ConfigProperty(name = "serving.max-batch-size") int maxBatch,
      @ConfigProperty(name = "serving.max-queue-delay") Duration maxDelay,
      @ConfigProperty(name = "serving.max-queue") int maxQueue,
      @ConfigProperty(name = "serving.inline-max-run") Duration inlineMaxRun,
      @ConfigProperty(name = "serving.max-queue-bytes")
          io.quarkus.runtime.configuration.MemorySize maxQueueBytes,
      MeterRegistry registry) {
    this(
        model.backend(),
        model.name(),
        maxBatch,
        maxDelay,
        maxQueue,
        maxQueueBytes.asLongValue(),
        inlineMaxRun,
        registry);
  }

  Batcher(
      InferenceBackend backend,
      String modelName,
      int maxBatch,
      Duration maxDelay,
      int maxQueue,
      Duration inlineMaxRun,
      MeterRegistry registry) {
    this(backend, modelName, maxBatch, maxDelay, maxQueue, Long.MAX_VALUE, inlineMaxRun, registry);
  }

  Batcher(
      InferenceBackend backend,
      String modelName,
      int maxBatch,
      Duration maxDelay,
      int maxQueue,
      long maxQueueBytes,
      Duration inlineMaxRun,
      MeterRegistry registry) {
    this.backend = backend;
    this.maxQueueBytes = maxQueueBytes;
    this.inlineMaxRunNanos = inlineMaxRun.toNanos();
    this.maxBatch = maxBatch;
    this.maxDelayNanos = maxDelay.toNanos();
    this.queue = new ArrayBlockingQueue<>(maxQueue);
    // Batching along the first axis needs it dynamic in every input and output.
    this.batchable =
        maxBatch > 1
            && backend.inputs().stream().allMatch(s -> s.shape().length > 0 && s.shape()[0] < 0)
            && backend.outputs().stream().allMatch(s -> s.shape().length > 0 && s.shape()[0] < 0);
    this.batchSizes =
        DistributionSummary.builder("inference_batch_size")
            .description("Rows per model execution")
            .tag(ServingMetrics.MODEL, modelName)
            .register(registry);
    this.queueTime =
        Timer.builder("inference_queue_duration")
            .description("Time a request waited for the model")
            .tag(ServingMetrics.MODEL, modelName)
            .register(registry);
    this.computeTime =
        Timer.builder("inference_compute_duration")
            .description("Time the model ran per batch")
            .tag(ServingMetrics.MODEL, modelName)
            .publishPercentileHistogram()
            .register(registry);
    Gauge.builder("inference_queue_depth", queue, BlockingQueue::size)
        .description("Requests waiting for the model")
        .tag(ServingMetrics.MODEL, modelName)
        .register(registry);
    Gauge.builder(ServingMetrics.IN_FLIGHT, inFlight, AtomicInteger::get)
        .description("Requests the model has taken and not yet answered (queued or computing)")
        .tag(ServingMetrics.MODEL, modelName)
        .register(registry);
    this.worker = new Thread(this::loop, "batcher");
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Runs a validated request at once on the calling thread when the model is idle, nothing waits
   * and its run should take under {@code inline-max-run}; otherwise returns null, and the caller
   * submits it. Called from the I/O thread that parsed the request: at low load this saves the
   * hand-offs to the batcher and back to the event loop, about 0.5 ms of a 2.6 ms sentence on two
   * cores (docs/benchmarks.md), while the time limit bounds how long that thread is held.
   */
  public Map<String, Tensor> runAtOnceIfIdle(List<Tensor> inputs) {
    long rows = rows(inputs);
    long perRow = nanosPerRow;
    if (!running
        || inlineMaxRunNanos <= 0 // turned off
        || perRow < 0
        || rows * perRow > inlineMaxRunNanos
        || !queue.isEmpty()
        || model.hasQueuedThreads() // the worker holds a batch and waits for the model
        || !model.tryAcquire()) {
      return null;
    }
    inFlight.incrementAndGet();
    try {
      batchSizes.record(rows);
      queueTime.record(0, TimeUnit.NANOSECONDS);
      long start = System.nanoTime();
      Map<String, Tensor> outputs = backend.infer(inputs);
      timed(start, rows);
      return outputs;
    } finally {
      inFlight.decrementAndGet();
      model.release();
    }
  }

  /** Queues a validated request; completes with the model's outputs for its rows. */
  public CompletableFuture<Map<String, Tensor>> submit(List<Tensor> inputs) {
    if (!running) {
      throw new ShuttingDown();
    }
    CompletableFuture<Map<String, Tensor>> result = new CompletableFuture<>();
    long rows = rows(inputs);
    long bytes = inputs.stream().mapToLong(t -> RawTensors.size(t.data())).sum();
    if (queuedBytes.addAndGet(bytes) > maxQueueBytes) {
      queuedBytes.addAndGet(-bytes);
      throw new QueueFull(
          "the server is at capacity (" + maxQueueBytes + " bytes of tensors queued); retry later");
    }
    if (!queue.offer(new Pending(inputs, rows, signature(inputs), System.nanoTime(), result))) {
      queuedBytes.addAndGet(-bytes);
      throw new QueueFull(
          "the server is at capacity (" + queue.size() + " requests queued); retry later");
    }
    inFlight.incrementAndGet();
    return result.whenComplete(
        (outputs, failure) -> {
          queuedBytes.addAndGet(-bytes);
          inFlight.decrementAndGet();
        });
  }

  private void loop() {
    while (running) {
      try {
        Pending first = carried != null ? carried : queue.poll(100, TimeUnit.MILLISECONDS);
        carried = null;
        if (first == null) {
          continue;
        }
        List<Pending> batch = new ArrayList<>(List.of(first));
        long rows = first.rows();
        long deadline = System.nanoTime() + maxDelayNanos;
        // Wait for company only when there is some: at low load a lone request runs at once,
        // under load requests queue up while the model runs and are batched anyway.
        while (batchable && rows < maxBatch && !queue.isEmpty()) {
          long wait = deadline - System.nanoTime();
          Pending next = wait <= 0 ? queue.poll() : queue.poll(wait, TimeUnit.NANOSECONDS);
          if (next == null) {
            break;
          }
          if (!next.signature().equals(first.signature()) || rows + next.rows() > maxBatch) {
            carried = next; // runs first in the next batch: order is kept
            break;
          }
          batch.add(next);
          rows += next.rows();
        }
        model.acquireUninterruptibly();
        try {
          run(batch, rows);
        } finally {
          model.release();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void run(List<Pending> batch, long rows) {
    batchSizes.record(rows);
    long start = System.nanoTime();
    batch.forEach(p -> queueTime.record(start - p.queuedAt(), TimeUnit.NANOSECONDS));
    try {
      if (batch.size() == 1) {
        Map<String, Tensor> outputs = backend.infer(batch.get(0).inputs());
        timed(start, rows);
        batch.get(0).result().complete(outputs);
        return;
      }
      Map<String, Tensor> outputs = backend.infer(concatenate(batch, rows));
      timed(start, rows);
      long offset = 0;
      for (Pending p : batch) {
        Map<String, Tensor> mine = new LinkedHashMap<>();
        for (Tensor t : outputs.values()) {
          mine.put(t.name(), slice(t, offset, p.rows(), rows));
        }
        offset += p.rows();
        p.result().complete(mine);
      }
    } catch (Error e) {
      // Out of memory, say: no member is retried, but every caller gets an answer (and its bytes
      // back), and the worker goes on.
      batch.forEach(p -> p.result().completeExceptionally(e));
    } catch (RuntimeException e) {
      if (batch.size() == 1) {
        batch.get(0).result().completeExceptionally(e);
        return;
      }
      // One member may be what broke the run: each runs alone, so only its own request fails.
      for (Pending p : batch) {
        run(List.of(p), p.rows());
      }
    }
  }

  private void timed(long start, long rows) {
    long nanos = System.nanoTime() - start;
    computeTime.record(nanos, TimeUnit.NANOSECONDS);
    long perRow = nanos / Math.max(1, rows);
    long previous = nanosPerRow;
    // A rough guide for runAtOnceIfIdle; a lost update between two threads does no harm.
    nanosPerRow = previous < 0 ? perRow : (3 * previous + perRow) / 4;
  }

  private static long rows(List<Tensor> inputs) {
    return inputs.get(0).shape().length == 0 ? 1 : inputs.get(0).shape()[0];
  }

  private static List<Tensor> concatenate(List<Pending> batch, long rows) {
    List<Tensor> merged = new ArrayList<>();
    for (int i = 0; i < batch.get(0).inputs().size(); i++) {
      Tensor first = batch.get(0).inputs().get(i);
      long[] shape = first.shape().clone();
      shape[0] = rows;
      Object data =
          Array.newInstance(
              first.data().getClass().getComponentType(), (int) Tensor.elements(shape));
      int at = 0;
      for (Pending p : batch) {
        Object part = p.inputs().get(i).data();
        int length = Array.getLength(part);
        System.arraycopy(part, 0, data, at, length);
        at += length;
      }
      merged.add(new Tensor(first.name(), first.datatype(), shape, data));
    }
    return merged;
  }

  private static Tensor slice(Tensor t, long offset, long rows, long total) {
    int rowLength = (int) (Array.getLength(t.data()) / total);
    Object data =
        Array.newInstance(t.data().getClass().getComponentType(), (int) (rows * rowLength));
    System.arraycopy(t.data(), (int) (offset * rowLength), data, 0, (int) (rows * rowLength));
    long[] shape = t.shape().clone();
    shape[0] = rows;
    return new Tensor(t.name(), t.datatype(), shape, data);
  }

  /**
   * Requests batch together when their inputs agree on all dimensions but the first, and each
   * request's inputs agree on the first; a request whose inputs disagree runs alone.
   */
  private static String signature(List<Tensor> inputs) {
    long rows = rows(inputs);
    if (inputs.stream().anyMatch(t -> t.shape().length == 0 || t.shape()[0] != rows)) {
      return "alone:" + System.identityHashCode(inputs);
    }
    StringBuilder key = new StringBuilder();
    for (Tensor t : inputs) {
      key.append(t.name())
          .append(
              Arrays.toString(
                  Arrays.copyOfRange(t.shape(), Math.min(1, t.shape().length), t.shape().length)))
          .append(';');
    }
    return key.toString();
  }

  /** Before the model closes (its observer has the default, later priority). */
  void stop(@Observes @jakarta.annotation.Priority(1) ShutdownEvent event) {
    close();
  }

  /**
   * Stops taking requests; the batch being run finishes, every request still waiting gets 503, and
   * only then may the model close (no run is left on a closed session).
   */
  void close() {
    running = false;
    // Not interrupted: the worker sees the flag within its 100 ms poll, after any batch it runs.
    try {
      worker.join(10_000);
      // A request run at once on an I/O thread holds the model until it is done.
      if (model.tryAcquire(10, TimeUnit.SECONDS)) {
        model.release();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (carried != null) {
      carried.result().completeExceptionally(new ShuttingDown());
      carried = null;
    }
    for (Pending left; (left = queue.poll()) != null; ) {
      left.result().completeExceptionally(new ShuttingDown());
    }
  }
}
