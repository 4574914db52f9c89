package io.sparserollout.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client of a served model: sends Open Inference Protocol v2 requests (in turn from a list) to a
 * Service address at a steady rate, one connection per request (so the Service spreads them over
 * its pods), and counts the outcomes by HTTP status ("refused" when no connection was accepted).
 */
public final class LoadGenerator implements AutoCloseable {
  private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
  private final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;

  public LoadGenerator(
      InetSocketAddress service, String model, List<String> bodies, Duration every) {
    thread =
        new Thread(
            () -> {
              int next = 0;
              while (running) {
                String body = bodies.get(next++ % bodies.size());
                String outcome = send(service, model, body);
                outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
                if (!outcome.equals("200") && failures.size() < 20) {
                  // When, to set beside the operator's and the pods' logs.
                  failures.add(java.time.Instant.now() + " " + outcome);
                }
                try {
                  Thread.sleep(every.toMillis());
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "load-generator");
    thread.setDaemon(true);
    thread.start();
  }

  /** One "hello world" request; its HTTP status, or "refused"/"broken" when none came back. */
  public static String send(InetSocketAddress service, String model) {
    return send(service, model, InferRequests.HELLO_WORLD);
  }

  /** One request; its HTTP status, or "refused"/"broken" when none came back. */
  public static String send(InetSocketAddress service, String model, String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    try (Socket socket = new Socket()) {
      socket.connect(service, 2000);
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /v2/models/"
                  + model
                  + "/infer HTTP/1.1\r\nHost: "
                  + service.getHostString()
                  + "\r\n"
                  + "Content-Type: application/json\r\nContent-Length: "
                  + body.length
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (!response.startsWith("HTTP/1.1 ")) {
        return "broken";
      }
      return response.substring(9, 12);
    } catch (java.net.ConnectException e) {
      return "refused";
    } catch (IOException e) {
      return "broken";
    }
  }

  /** Requests so far by outcome: "200", "503", "refused", ... */
  public Map<String, Long> outcomes() {
    Map<String, Long> copy = new java.util.TreeMap<>();
    outcomes.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  /** The first non-200 outcomes, each with its time. */
  public List<String> failures() {
    return List.copyOf(failures);
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
