package io.sparserollout.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sparserollout.serving.backend.InferenceBackend;
import io.sparserollout.serving.protocol.Datatype;
import io.sparserollout.serving.protocol.Tensor;
import io.sparserollout.serving.protocol.TensorSpec;
import io.sparserollout.stage.ServingMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatcherTest {
  /** Doubles its input; records each run's batch rows; can be held to fill the queue. */
  static class Doubler implements InferenceBackend {
    final List<Long> runs = new ArrayList<>();
    volatile CountDownLatch release;
    final AtomicInteger started = new AtomicInteger();
    volatile Thread lastThread;

    Doubler(CountDownLatch release) {
      this.release = release;
    }

    @Override
    public String platform() {
      return "test";
    }

    @Override
    public List<TensorSpec> inputs() {
      return List.of(new TensorSpec("x", Datatype.FP32, new long[] {-1, 2}));
    }

    @Override
    public List<TensorSpec> outputs() {
      return List.of(new TensorSpec("y", Datatype.FP32, new long[] {-1, 2}));
    }

    @Override
    public Map<String, Tensor> infer(List<Tensor> inputs) {
      started.incrementAndGet();
      lastThread = Thread.currentThread();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Tensor x = inputs.get(0);
      synchronized (runs) {
        runs.add(x.shape()[0]);
      }
      float[] in = (float[]) x.data();
      float[] out = new float[in.length];
      for (int i = 0; i < in.length; i++) {
        out[i] = 2 * in[i];
      }
      return Map.of("y", new Tensor("y", Datatype.FP32, x.shape(), out));
    }

    @Override
    public void close() {}
  }

  @Test
  void concurrentRequestsRunTogetherAndEachGetsItsOwnRows() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    Doubler backend = new Doubler(hold);
    Batcher batcher =
        new Batcher(
            backend, "m", 32, Duration.ofMillis(50), 64, Duration.ZERO, new SimpleMeterRegistry());
    List<CompletableFuture<Map<String, Tensor>>> results = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      results.add(batcher.submit(List.of(row(i))));
    }
    hold.countDown();

    for (int i = 0; i < 8; i++) {
      float[] y = (float[]) results.get(i).get().get("y").data();
      assertThat(y).containsExactly(2f * i, 2f * i + 2);
    }
    assertThat(backend.runs).hasSizeLessThan(8);
    assertThat(backend.runs.stream().mapToLong(Long::longValue).sum()).isEqualTo(8);
    batcher.close();
  }

  @Test
  void theQueueIsBudgetedInBytesSoFewLargeRequestsCannotHoldUnboundedMemory() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    Doubler backend = new Doubler(hold);
    // Room for 64 requests by count, but only 1 KiB of tensors.
    Batcher batcher =
        new Batcher(
            backend,
            "m",
            32,
            Duration.ofMillis(50),
            64,
            1024,
            Duration.ZERO,
            new SimpleMeterRegistry());
    float[] big = new float[100 * 2]; // 800 bytes
    var first = batcher.submit(List.of(new Tensor("x", Datatype.FP32, new long[] {100, 2}, big)));

    assertThatThrownBy(
            () -> batcher.submit(List.of(new Tensor("x", Datatype.FP32, new long[] {100, 2}, big))))
        .isInstanceOf(Batcher.QueueFull.class)
        .hasMessageContaining("1024 bytes of tensors queued");
    hold.countDown();
    first.get();
    // Answered requests give their bytes back.
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(
                        batcher
                            .submit(
                                List.of(new Tensor("x", Datatype.FP32, new long[] {100, 2}, big)))
                            .get())
                    .containsKey("y"));
    batcher.close();
  }

  @Test
  void onShutdownTheRunningBatchFinishesAndTheLeftoversGet503BeforeTheModelCloses()
      throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    Doubler backend = new Doubler(hold);
    // One row per batch: the first runs (held), the others wait in the queue.
    Batcher batcher =
        new Batcher(
            backend, "m", 1, Duration.ofMillis(1), 64, Duration.ZERO, new SimpleMeterRegistry());
    var running = batcher.submit(List.of(row(1)));
    await().atMost(Duration.ofSeconds(5)).until(() -> backend.started.get() == 1);
    var waiting = List.of(batcher.submit(List.of(row(2))), batcher.submit(List.of(row(3))));

    Thread stopping = new Thread(batcher::close);
    stopping.start();
    Thread.sleep(200);
    // The batch on the model is not cut off: close waits for it.
    assertThat(stopping.isAlive()).isTrue();
    hold.countDown();
    stopping.join(15_000);

    assertThat((float[]) running.get().get("y").data()).containsExactly(2f, 4f);
    for (var left : waiting) {
      assertThatThrownBy(left::get).hasCauseInstanceOf(Batcher.ShuttingDown.class);
    }
    assertThatThrownBy(() -> batcher.submit(List.of(row(4))))
        .isInstanceOf(Batcher.ShuttingDown.class);
    assertThat(backend.started.get()).isEqualTo(1);
  }

  @Test
  void aRunThatFailsIsRetriedMemberByMemberSoOnlyTheCulpritFails() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    // Refuses any batch holding a negative value, as a model refuses a malformed input.
    Doubler backend =
        new Doubler(hold) {
          @Override
          public Map<String, Tensor> infer(List<Tensor> inputs) {
            for (float v : (float[]) inputs.get(0).data()) {
              if (v < 0) {
                throw new IllegalArgumentException("negative input");
              }
            }
            return super.infer(inputs);
          }
        };
    Batcher batcher =
        new Batcher(
            backend, "m", 32, Duration.ofMillis(50), 64, Duration.ZERO, new SimpleMeterRegistry());
    List<CompletableFuture<Map<String, Tensor>>> results = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      results.add(batcher.submit(List.of(row(i == 3 ? -5 : i))));
    }
    hold.countDown();

    for (int i = 0; i < 6; i++) {
      if (i == 3) {
        assertThatThrownBy(results.get(i)::get).hasRootCauseMessage("negative input");
      } else {
        assertThat((float[]) results.get(i).get().get("y").data())
            .containsExactly(2f * i, 2f * i + 2);
      }
    }
    batcher.close();
  }

  @Test
  void aRequestWhoseInputsDisagreeOnTheBatchRunsAloneAndLeavesOthersRight() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    Adder backend = new Adder(hold);
    Batcher batcher =
        new Batcher(
            backend, "m", 32, Duration.ofMillis(50), 64, Duration.ZERO, new SimpleMeterRegistry());
    // Two rows of x with one row of m: batched with others, their m rows would shift.
    var odd =
        batcher.submit(
            List.of(
                new Tensor("x", Datatype.FP32, new long[] {2, 2}, new float[] {1, 2, 3, 4}),
                new Tensor("m", Datatype.FP32, new long[] {1, 2}, new float[] {5, 5})));
    List<CompletableFuture<Map<String, Tensor>>> honest = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      honest.add(
          batcher.submit(
              List.of(
                  new Tensor("x", Datatype.FP32, new long[] {1, 2}, new float[] {i, i}),
                  new Tensor("m", Datatype.FP32, new long[] {1, 2}, new float[] {1, 1}))));
    }
    hold.countDown();

    for (int i = 0; i < 4; i++) {
      assertThat((float[]) honest.get(i).get().get("y").data()).containsExactly(i + 1f, i + 1f);
    }
    assertThatThrownBy(odd::get).hasRootCauseInstanceOf(IllegalArgumentException.class);
    batcher.close();
  }

  /** y = x + m, row by row; refuses inputs of different sizes as a model would. */
  static final class Adder extends Doubler {
    Adder(CountDownLatch release) {
      super(release);
    }

    @Override
    public List<TensorSpec> inputs() {
      return List.of(
          new TensorSpec("x", Datatype.FP32, new long[] {-1, 2}),
          new TensorSpec("m", Datatype.FP32, new long[] {-1, 2}));
    }

    @Override
    public Map<String, Tensor> infer(List<Tensor> inputs) {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      float[] x = (float[]) inputs.get(0).data();
      float[] m = (float[]) inputs.get(1).data();
      if (x.length != m.length) {
        throw new IllegalArgumentException("x and m differ in size");
      }
      float[] y = new float[x.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = x[i] + m[i];
      }
      return Map.of("y", new Tensor("y", Datatype.FP32, inputs.get(0).shape(), y));
    }
  }

  @Test
  void theInFlightGaugeCountsRequestsQueuedOrComputingAndNotRefusedOnes() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    Doubler backend = new Doubler(hold);
    var registry = new SimpleMeterRegistry();
    Batcher batcher = new Batcher(backend, "m", 1, Duration.ZERO, 2, Duration.ZERO, registry);
    var inFlight = registry.get(ServingMetrics.IN_FLIGHT).tag(ServingMetrics.MODEL, "m").gauge();
    var first = batcher.submit(List.of(row(0)));
    while (backend.started.get() == 0) {
      Thread.sleep(5);
    }
    var queued = List.of(batcher.submit(List.of(row(1))), batcher.submit(List.of(row(2))));
    assertThatThrownBy(() -> batcher.submit(List.of(row(3)))).isInstanceOf(Batcher.QueueFull.class);

    assertThat(inFlight.value()).isEqualTo(3.0);
    hold.countDown();
    first.get(5, TimeUnit.SECONDS);
    for (var answer : queued) {
      answer.get(5, TimeUnit.SECONDS);
    }
    assertThat(inFlight.value()).isZero();
    batcher.close();
  }

  @Test
  void aFullQueueRefusesAtOnce() throws Exception {
    CountDownLatch hold = new CountDownLatch(1);
    Doubler backend = new Doubler(hold);
    Batcher batcher =
        new Batcher(backend, "m", 1, Duration.ZERO, 2, Duration.ZERO, new SimpleMeterRegistry());
    batcher.submit(List.of(row(0)));
    while (backend.started.get() == 0) {
      Thread.sleep(5); // the worker holds the first request inside the model
    }
    batcher.submit(List.of(row(1)));
    batcher.submit(List.of(row(2)));

    assertThatThrownBy(() -> batcher.submit(List.of(row(3))))
        .isInstanceOf(Batcher.QueueFull.class)
        .hasMessageContaining("at capacity");
    hold.countDown();
    batcher.close();
  }

  @Test
  void aLoneShortRequestRunsAtOnceOnTheCallersThreadOnceTheModelWasTimed() throws Exception {
    Doubler backend = new Doubler(new CountDownLatch(0));
    Batcher batcher =
        new Batcher(
            backend, "m", 32, Duration.ZERO, 8, Duration.ofSeconds(5), new SimpleMeterRegistry());
    assertThat(batcher.runAtOnceIfIdle(List.of(row(1))))
        .as("no run timed yet: how long one takes is unknown")
        .isNull();
    batcher.submit(List.of(row(1))).get();
    assertThat(backend.lastThread.getName()).isEqualTo("batcher");

    // The worker answers before it lets go of the model: the model may still be held a moment.
    Map<String, Tensor> outputs =
        await()
            .pollInSameThread()
            .atMost(Duration.ofSeconds(5))
            .until(() -> batcher.runAtOnceIfIdle(List.of(row(3))), java.util.Objects::nonNull);

    assertThat((float[]) outputs.get("y").data()).containsExactly(6f, 8f);
    assertThat(backend.lastThread).isSameAs(Thread.currentThread());
    batcher.close();
  }

  @Test
  void nothingRunsAtOnceWhileTheModelIsBusyOrWhenTurnedOff() throws Exception {
    Doubler backend = new Doubler(new CountDownLatch(0));
    Batcher batcher =
        new Batcher(
            backend, "m", 32, Duration.ZERO, 8, Duration.ofSeconds(5), new SimpleMeterRegistry());
    batcher.submit(List.of(row(0))).get(); // timed: short enough from now on
    backend.release = new CountDownLatch(1);
    CompletableFuture<Map<String, Tensor>> held = batcher.submit(List.of(row(1)));
    while (backend.started.get() < 2) {
      Thread.sleep(5); // the worker holds this one inside the model
    }

    assertThat(batcher.runAtOnceIfIdle(List.of(row(2)))).as("the model is busy").isNull();
    backend.release.countDown();
    held.get();
    // The worker lets go of the model just after answering.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> batcher.runAtOnceIfIdle(List.of(row(2))) != null);

    Batcher off =
        new Batcher(backend, "m", 32, Duration.ZERO, 8, Duration.ZERO, new SimpleMeterRegistry());
    off.submit(List.of(row(0))).get();
    assertThat(off.runAtOnceIfIdle(List.of(row(1)))).as("inline-max-run 0").isNull();
    batcher.close();
    off.close();
  }

  private static Tensor row(int i) {
    return new Tensor("x", Datatype.FP32, new long[] {1, 2}, new float[] {i, i + 1});
  }
}
