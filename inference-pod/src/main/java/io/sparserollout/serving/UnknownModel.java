package io.sparserollout.serving;

/** A model name or version this pod does not serve: answered 404. */
class UnknownModel extends RuntimeException {
  UnknownModel(String message) {
    super(message);
  }
}
