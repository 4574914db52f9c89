package io.sparserollout.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plays kube-proxy and cluster DNS for the harness: every Service gets a loopback address of its
 * own (127.0.1.x) listening on the Service's ports, and each connection goes to one ready,
 * non-terminating pod the selector matches, in turn (connection-level balancing, as kube-proxy's
 * iptables mode). {@link #resolve} maps {@code <service>.<namespace>.svc} names to those addresses.
 */
final class ServiceProxy implements AutoCloseable {
  private static final AtomicInteger NEXT_ADDRESS = new AtomicInteger(10);
  private final SharedIndexInformer<Service> services;
  private final SharedIndexInformer<Pod> pods;
  private final Map<String, String> addresses = new ConcurrentHashMap<>();
  private final Map<String, ServerSocket> listeners = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> turns = new ConcurrentHashMap<>();
  private final ExecutorService threads = Executors.newCachedThreadPool(daemon());

  ServiceProxy(KubernetesClient client, SharedIndexInformer<Pod> pods) {
    this.pods = pods;
    this.services = client.services().inAnyNamespace().inform();
  }

  /** The address clients use for a Service (listening once this returns), or null if none. */
  synchronized String address(String namespace, String name) {
    String key = namespace + "/" + name;
    Service service = services.getStore().getByKey(key);
    if (service == null) {
      return null;
    }
    String ip = addresses.computeIfAbsent(key, k -> "127.0.1." + NEXT_ADDRESS.getAndIncrement());
    for (ServicePort port : service.getSpec().getPorts()) {
      listeners.computeIfAbsent(key + ":" + port.getPort(), k -> listen(namespace, name, ip, port));
    }
    return ip;
  }

  /**
   * Rewrites {@code http://name.namespace.svc[.cluster.local]:port} hosts in a value to the
   * Service's address, as cluster DNS would resolve them; unknown Services stay as they are.
   */
  String resolve(String value) {
    var m =
        java.util.regex.Pattern.compile(
                "([a-z0-9]([-a-z0-9]*[a-z0-9])?)\\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\\.svc(\\.cluster\\.local)?")
            .matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String ip = address(m.group(3), m.group(1));
      m.appendReplacement(
          out, java.util.regex.Matcher.quoteReplacement(ip == null ? m.group() : ip));
    }
    m.appendTail(out);
    return out.toString();
  }

  private ServerSocket listen(String namespace, String name, String ip, ServicePort port) {
    try {
      ServerSocket socket = new ServerSocket();
      socket.bind(new InetSocketAddress(InetAddress.getByName(ip), port.getPort()));
      threads.submit(
          () -> {
            while (!socket.isClosed()) {
              try {
                Socket client = socket.accept();
                threads.submit(() -> forward(client, namespace, name, port));
              } catch (IOException e) {
                return;
              }
            }
          });
      return socket;
    } catch (IOException e) {
      throw new IllegalStateException("cannot listen for Service " + name + " on " + ip, e);
    }
  }

  private void forward(Socket client, String namespace, String name, ServicePort port) {
    try (client) {
      Service service = services.getStore().getByKey(namespace + "/" + name);
      Socket backend = null;
      for (String[] endpoint : endpoints(service, port)) {
        try {
          backend = new Socket(endpoint[0], Integer.parseInt(endpoint[1]));
          break;
        } catch (IOException e) {
          // That pod stopped listening between readiness and now: try the next one.
        }
      }
      if (backend == null) {
        // No ready endpoint: say so (kube-proxy would refuse the connection; this names why).
        byte[] body =
            ("no ready endpoints for Service " + namespace + "/" + name + "\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        client
            .getOutputStream()
            .write(
                ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: "
                        + body.length
                        + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        client.getOutputStream().write(body);
        client.getOutputStream().flush();
        return;
      }
      try (Socket server = backend) {
        var upstream =
            threads.submit(() -> pipe(client.getInputStream(), server.getOutputStream(), server));
        pipe(server.getInputStream(), client.getOutputStream(), client);
        upstream.get();
      }
    } catch (Exception e) {
      // A peer closed the connection.
    }
  }

  /** Ready, non-terminating pods the selector matches, starting with the next in turn. */
  private List<String[]> endpoints(Service service, ServicePort port) {
    List<String[]> ready = new ArrayList<>();
    if (service == null) {
      return ready;
    }
    Map<String, String> selector = service.getSpec().getSelector();
    for (Pod pod : pods.getStore().list()) {
      Map<String, String> labels = pod.getMetadata().getLabels();
      if (!pod.getMetadata().getNamespace().equals(service.getMetadata().getNamespace())
          || labels == null
          || selector == null
          || !labels.entrySet().containsAll(selector.entrySet())
          || pod.getMetadata().getDeletionTimestamp() != null
          || pod.getStatus() == null
          || pod.getStatus().getPodIP() == null
          || pod.getStatus().getConditions() == null
          || pod.getStatus().getConditions().stream()
              .noneMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))) {
        continue;
      }
      Integer target = targetPort(pod, port.getTargetPort(), port.getPort());
      if (target != null) {
        ready.add(new String[] {pod.getStatus().getPodIP(), target.toString()});
      }
    }
    if (!ready.isEmpty()) {
      int turn =
          turns
              .computeIfAbsent(service.getMetadata().getUid(), k -> new AtomicInteger())
              .getAndIncrement();
      java.util.Collections.rotate(ready, -Math.floorMod(turn, ready.size()));
    }
    return ready;
  }

  private static Integer targetPort(Pod pod, IntOrString target, int servicePort) {
    if (target == null) {
      return servicePort;
    }
    if (target.getIntVal() != null) {
      return target.getIntVal();
    }
    for (Container c : pod.getSpec().getContainers()) {
      for (ContainerPort p : c.getPorts()) {
        if (target.getStrVal().equals(p.getName())) {
          return p.getContainerPort();
        }
      }
    }
    return null;
  }

  private static Void pipe(InputStream in, OutputStream out, Socket to) throws IOException {
    try {
      in.transferTo(out);
      out.flush();
    } finally {
      try {
        to.shutdownOutput();
      } catch (IOException e) {
        // already closed
      }
    }
    return null;
  }

  private static java.util.concurrent.ThreadFactory daemon() {
    return r -> {
      Thread t = new Thread(r, "service-proxy");
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    listeners
        .values()
        .forEach(
            s -> {
              try {
                s.close();
              } catch (IOException e) {
                // closing anyway
              }
            });
    services.close();
    threads.shutdownNow();
  }
}
