package io.sparserollout.operator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrometheusProvidersTest {
  @Test
  void onlyPlainHttpOrHttpsUrlsWithoutCredentialsAreProviders() {
    assertThat(PrometheusProviders.usable("http://prometheus-operated.monitoring:9090")).isTrue();
    assertThat(PrometheusProviders.usable(" https://prom.example.com/ ")).isTrue();
    assertThat(PrometheusProviders.usable("file:///etc/passwd")).isFalse();
    assertThat(PrometheusProviders.usable("http://user:secret@prom:9090")).isFalse();
    assertThat(PrometheusProviders.usable("not a url")).isFalse();
  }
}
