package io.sparserollout.operator.pipeline;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.sparserollout.api.v1alpha1.StageProgressStatus;
import io.sparserollout.operator.rollout.MetricsHttp;
import io.sparserollout.stage.StageProgress;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Reads a running stage's progress from its pod ({@link StageProgress}, served by sparsify on
 * {@link #PORT}). Progress is only shown, never decided on: an answer that is missing, late or not
 * sensible is left out. Reads run off the reconcile thread: a reconcile takes the last answer its
 * pod gave and asks again, so a pod that does not answer holds nothing up.
 */
public final class ProgressReader {
  private static final Logger LOG = Logger.getLogger(ProgressReader.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** The port stage pods serve progress on: the one the operator may reach pods on. */
  public static final int PORT = 8080;

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** Answers older than this are forgotten (their pod is long gone or silent). */
  private static final Duration KEPT = Duration.ofMinutes(10);

  private record Answer(StageProgressStatus progress, Instant at) {}

  /** The last answer of each pod (by UID), and the pods asked now. */
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();

  private final Set<String> asking = ConcurrentHashMap.newKeySet();

  /** The last progress the running pod gave, if any; asks it again unless a read is under way. */
  public Optional<StageProgressStatus> read(List<Pod> pods) {
    Instant now = Instant.now();
    answers.values().removeIf(a -> a.at().plus(KEPT).isBefore(now));
    Optional<Pod> running =
        pods.stream()
            .filter(
                p ->
                    p.getStatus() != null
                        && "Running".equals(p.getStatus().getPhase())
                        && p.getStatus().getPodIP() != null
                        && p.getMetadata().getUid() != null
                        && p.getMetadata().getDeletionTimestamp() == null)
            .findFirst();
    if (running.isEmpty()) {
      return Optional.empty();
    }
    String uid = running.get().getMetadata().getUid();
    if (asking.add(uid)) {
      ask(uid, running.get().getStatus().getPodIP());
    }
    Answer last = answers.get(uid);
    return last == null ? Optional.empty() : Optional.of(last.progress());
  }

  /** Asks the pod; only a sensible answer replaces the last one. */
  private void ask(String uid, String ip) {
    try {
      String host = ip.contains(":") ? "[" + ip + "]" : ip; // an IPv6 pod address
      URI uri = URI.create("http://" + host + ":" + PORT + StageProgress.PATH);
      MetricsHttp.getAsync(uri, TIMEOUT)
          .whenComplete(
              (response, error) -> {
                try {
                  if (error != null) {
                    LOG.debugf("no progress from %s: %s", uri, error.getMessage());
                  } else if (response.statusCode() == 200) {
                    parse(response.body())
                        .ifPresent(p -> answers.put(uid, new Answer(p, Instant.now())));
                  }
                } finally {
                  asking.remove(uid);
                }
              });
    } catch (RuntimeException e) {
      asking.remove(uid);
      LOG.debugf("cannot ask %s for progress: %s", ip, e.getMessage());
    }
  }

  /** The progress a body says, when every number in it is one status can show. */
  static Optional<StageProgressStatus> parse(String body) {
    StageProgress p;
    try {
      p = JSON.readValue(body, StageProgress.class);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (p == null
        || p.steps() < 1
        || p.step() < 0
        || p.step() > p.steps()
        || !"finetune".equals(p.stage())
        || (p.heldOutFidelity() != null && !(p.heldOutFidelity() >= -1 && p.heldOutFidelity() <= 1))
        || (p.secondsLeft() != null && !(p.secondsLeft() >= 0 && p.secondsLeft() < 1e9))) {
      return Optional.empty();
    }
    return Optional.of(
        new StageProgressStatus(
            p.stage(),
            p.step(),
            p.steps(),
            p.heldOutFidelity() == null ? null : Math.round(p.heldOutFidelity() * 1e4) / 1e4,
            p.secondsLeft() == null ? null : Math.round(p.secondsLeft())));
  }
}
