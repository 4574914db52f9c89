package io.sparserollout.sparsify.store;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The two places a Kubernetes pod gets temporary AWS credentials from a token file, answering as
 * AWS documents them: EKS Pod Identity's agent (GET with the token as Authorization, JSON
 * credentials) and STS AssumeRoleWithWebIdentity for IRSA (a form POST, XML credentials). Both hand
 * out the S3 server's key with a session token, and only for the expected token.
 */
final class CredentialEndpoints implements AutoCloseable {
  private final HttpServer server;
  private final String expectedToken;
  final List<String> tokensSeen = new CopyOnWriteArrayList<>();

  CredentialEndpoints(String expectedToken) throws IOException {
    this.expectedToken = expectedToken;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/pod-identity", this::podIdentity);
    // STS answers at the root of its endpoint (the SDK posts to "/").
    server.createContext("/", this::sts);
    server.start();
  }

  String podIdentityUri() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/pod-identity";
  }

  String stsEndpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void podIdentity(HttpExchange exchange) throws IOException {
    String token = exchange.getRequestHeaders().getFirst("Authorization");
    tokensSeen.add(String.valueOf(token));
    if (!expectedToken.equals(token)) {
      reply(exchange, 401, "application/json", "{\"message\":\"invalid token\"}");
      return;
    }
    reply(
        exchange,
        200,
        "application/json",
        "{\"AccessKeyId\":\""
            + S3ProxyServer.ACCESS_KEY
            + "\",\"SecretAccessKey\":\""
            + S3ProxyServer.SECRET_KEY
            + "\",\"Token\":\"pod-identity-session\",\"AccountId\":\"123456789012\","
            + "\"Expiration\":\"2099-01-01T00:00:00Z\"}");
  }

  private void sts(HttpExchange exchange) throws IOException {
    String form = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String token = null;
    for (String pair : form.split("&")) {
      if (pair.startsWith("WebIdentityToken=")) {
        token = URLDecoder.decode(pair.substring(pair.indexOf('=') + 1), StandardCharsets.UTF_8);
      }
    }
    tokensSeen.add(String.valueOf(token));
    if (!form.contains("Action=AssumeRoleWithWebIdentity") || !expectedToken.equals(token)) {
      reply(
          exchange,
          400,
          "text/xml",
          "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
              + "<Message>token rejected</Message></Error></ErrorResponse>");
      return;
    }
    reply(
        exchange,
        200,
        "text/xml",
        "<AssumeRoleWithWebIdentityResponse"
            + " xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            + "<AssumeRoleWithWebIdentityResult><Credentials>"
            + "<AccessKeyId>"
            + S3ProxyServer.ACCESS_KEY
            + "</AccessKeyId><SecretAccessKey>"
            + S3ProxyServer.SECRET_KEY
            + "</SecretAccessKey><SessionToken>irsa-session</SessionToken>"
            + "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
            + "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/sparsify/s</Arn>"
            + "<AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>"
            + "<SubjectFromWebIdentityToken>system:serviceaccount:ml:sparsify"
            + "</SubjectFromWebIdentityToken></AssumeRoleWithWebIdentityResult>"
            + "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
            + "</AssumeRoleWithWebIdentityResponse>");
  }

  private static void reply(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
