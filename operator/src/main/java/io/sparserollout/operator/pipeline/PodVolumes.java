package io.sparserollout.operator.pipeline;

import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.sparserollout.api.v1alpha1.SparseModel;
import java.util.ArrayList;
import java.util.List;

/**
 * The model's PVCs mounted at /mnt/&lt;claim&gt; plus a writable /tmp: stage and serving pods. Only
 * a stage writes, and only to the artifact store's claim; every other mount is read-only.
 */
public record PodVolumes(List<Volume> volumes, List<VolumeMount> mounts) {

  /** A stage pod's volumes: the store's claim writable. */
  public static PodVolumes forStage(SparseModel model) {
    return of(model, Storage.storeClaim(model));
  }

  /** A serving pod's volumes: every claim read-only. */
  public static PodVolumes forServing(SparseModel model) {
    return of(model, null);
  }

  /**
   * A serving pod's volumes with its own folder of captured inputs writable at {@code mountPath} (a
   * subPath of the store's claim): it can add samples there and nowhere else.
   */
  public static PodVolumes forCapturingServing(SparseModel model, String mountPath) {
    PodVolumes volumes = forServing(model);
    List<VolumeMount> mounts = new ArrayList<>(volumes.mounts());
    // The store's claim comes first in Storage.claims, so it is volume pvc-0.
    mounts.add(
        new VolumeMountBuilder()
            .withName("pvc-0")
            .withMountPath(mountPath)
            // readOnly left unset, not false: the API server drops a false, and the drift check
            // would then see every reconcile's desired Deployment as changed.
            .withSubPath(Storage.captureSubPath(model))
            .build());
    return new PodVolumes(volumes.volumes(), mounts);
  }

  private static PodVolumes of(SparseModel model, String writableClaim) {
    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    for (String claim : Storage.claims(model)) {
      String volume = "pvc-" + volumes.size();
      volumes.add(
          new VolumeBuilder()
              .withName(volume)
              .withNewPersistentVolumeClaim()
              .withClaimName(claim)
              .endPersistentVolumeClaim()
              .build());
      mounts.add(
          new VolumeMountBuilder()
              .withName(volume)
              .withMountPath(Storage.MOUNT_ROOT + claim)
              .withReadOnly(!claim.equals(writableClaim))
              .build());
    }
    volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
    mounts.add(new VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build());
    return new PodVolumes(volumes, mounts);
  }
}
