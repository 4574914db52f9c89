package io.sparserollout.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** One active replica at a time: a Lease in the operator's namespace (RBAC: leases). */
public class LeaderElection {
  static final String LEASE_NAME = "sparserollout-operator";

  @Produces
  @ApplicationScoped
  LeaderElectionConfiguration leaderElection(
      @ConfigProperty(name = "sparserollout.lease-namespace")
          java.util.Optional<String> namespace) {
    // Without a namespace JOSDK uses the one the pod runs in.
    return new LeaderElectionConfiguration(LEASE_NAME, namespace.orElse(null));
  }
}
