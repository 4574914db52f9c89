package io.sparserollout.serving.protocol;

/** A request the protocol or the model cannot accept: answered 400 with the message. */
public class BadRequest extends RuntimeException {
  public BadRequest(String message) {
    super(message);
  }
}
