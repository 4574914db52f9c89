package io.sparserollout.sparsify.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of the S3 server whose first connections get S3's "503 SlowDown" (as S3
 * answers under load) and whose later connections pass through byte for byte, so signatures made
 * for the proxy's address stay valid.
 */
final class FlakyProxy implements AutoCloseable {
  static final String SLOW_DOWN_BODY =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please"
          + " reduce your request rate.</Message><RequestId>4442587FB7D0A2F9</RequestId>"
          + "<HostId>"
          + "x".repeat(2000)
          + "</HostId></Error>";
  private final ServerSocket server;
  private final int target;
  private final AtomicInteger failuresLeft;
  private final AtomicInteger refused = new AtomicInteger();

  FlakyProxy(int target, int failures) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.target = target;
    this.failuresLeft = new AtomicInteger(failures);
    daemon(this::accept);
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  int refused() {
    return refused.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (failuresLeft.getAndDecrement() > 0) {
          daemon(() -> slowDown(client));
        } else {
          Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
          daemon(() -> pipe(client, upstream));
          daemon(() -> pipe(upstream, client));
        }
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void slowDown(Socket client) {
    try (client) {
      InputStream in = client.getInputStream();
      // Read the request head; the body (if any) is left unread, as a loaded server would.
      int matched = 0;
      for (int b; matched < 4 && (b = in.read()) >= 0; ) {
        matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      byte[] body = SLOW_DOWN_BODY.getBytes(StandardCharsets.UTF_8);
      OutputStream out = client.getOutputStream();
      out.write(
          ("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: "
                  + body.length
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      refused.incrementAndGet();
    } catch (IOException ignored) {
      // The client gave up first; it counts as a failure it saw either way.
      refused.incrementAndGet();
    }
  }

  private static void daemon(Runnable task) {
    Thread thread = new Thread(task, "flaky-proxy");
    thread.setDaemon(true);
    thread.start();
  }

  private static void pipe(Socket from, Socket to) {
    try {
      from.getInputStream().transferTo(to.getOutputStream());
    } catch (IOException ignored) {
      // One side closed; the other follows below.
    } finally {
      try {
        to.shutdownOutput();
      } catch (IOException ignored) {
        // Already closed.
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
