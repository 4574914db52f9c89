package io.sparserollout.sparsify.cli;

import io.sparserollout.sparsify.SparsifyException;
import io.sparserollout.sparsify.onnx.LayerFinder;
import io.sparserollout.sparsify.onnx.ModelInputs;
import io.sparserollout.sparsify.onnx.OnnxModel;
import io.sparserollout.sparsify.text.Batch;
import io.sparserollout.sparsify.text.NpzFile;
import io.sparserollout.sparsify.text.Pairs;
import io.sparserollout.sparsify.text.Sentences;
import io.sparserollout.sparsify.text.TensorBatch;
import io.sparserollout.sparsify.text.TextTokenizer;
import io.sparserollout.sparsify.train.DataParallel;
import io.sparserollout.sparsify.train.FineTuner;
import io.sparserollout.sparsify.train.TrainingData;
import io.sparserollout.stage.Cli;
import io.sparserollout.stage.FineTuneResult;
import io.sparserollout.stage.ModelTask;
import io.sparserollout.stage.Sha256;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = Cli.FINETUNE,
    description =
        "Sparse fine-tuning of a 2:4 model by distillation from its dense teacher (libtorch);"
            + " pruned weights stay zero.")
final class FinetuneCommand implements Callable<Integer> {
  private static final long TRAINING_ORDER_SEED = 20261122L;

  @Mixin CommandRun run;

  @Option(names = Cli.DENSE, required = true, description = "the dense teacher ONNX model")
  String dense;

  @Option(
      names = Cli.INIT,
      description =
          "the 2:4 student from prune, its zeros kept (default: the dense weights, pruned 2:4 by"
              + " magnitude, or progressively with --progressive)")
  String init;

  @Option(
      names = Cli.EXPECT_SHA256,
      description = "refuse an --init whose SHA-256 differs (the digest prune reported)")
  String expectSha256;

  @Option(
      names = Cli.INCLUDE,
      description =
          "a regex of weights to prune when starting from the dense weights (repeat for more)")
  List<String> include = List.of();

  @Option(
      names = Cli.EXCLUDE,
      description =
          "a regex of weights kept dense when starting from the dense weights (repeat for more)")
  List<String> exclude = List.of();

  @Option(
      names = Cli.TOKENIZER,
      description = "tokenizer.json (sentences; a model of .npz tensors has none)")
  String tokenizer;

  @Option(
      names = Cli.TRAIN,
      required = true,
      description =
          "training sentences, one per line; or an .npz file of tensors (a model without a"
              + " tokenizer, fine-tuned as a classifier)")
  String train;

  @Option(
      names = "--held-out",
      description =
          "evaluation samples never trained on, as --train gives them (default: the last 10%% of"
              + " --train, at most 300)")
  String heldOut;

  @Option(
      names = Cli.TASK,
      description =
          "embedding (hidden states, or pooled embeddings: cosine), classification (logits"
              + " [batch, classes]: their distribution) or ranking (lines of query<TAB>document"
              + " pairs in the tokenizer's pair encoding, one score per pair, distilled score by"
              + " score); default: an encoder or a classifier, as the first output reads")
  String task;

  @Option(names = Cli.OUT, required = true, description = "where the fine-tuned model is written")
  String out;

  @Option(names = Cli.MAX_LENGTH, defaultValue = "128", description = "tokens per sentence")
  int maxLength;

  @Option(
      names = Cli.STEPS,
      defaultValue = "2200",
      description = "optimizer steps (MiniLM on 2 cores: 2200 steps in 19 min reach 0.98)")
  int steps;

  @Option(names = Cli.BATCH_SIZE, defaultValue = "32", description = "sentences per step")
  int batchSize;

  @Option(
      names = {Cli.LEARNING_RATE, "--lr"},
      defaultValue = "4e-4",
      description = "peak AdamW learning rate")
  double learningRate;

  @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay")
  double weightDecay;

  @Option(
      names = "--token-loss-weight",
      defaultValue = "1",
      description = "weight of matching the teacher's last hidden state token by token (0: off)")
  double tokenLossWeight;

  @Option(
      names = "--layer-loss-weight",
      defaultValue = "1",
      description =
          "weight of matching the teacher's activations at the input of every pruned layer (0: off)")
  double layerLossWeight;

  @Option(
      names = "--eval-every",
      defaultValue = "100",
      description = "steps between held-out checks")
  int evalEvery;

  @Option(
      names = "--threads",
      defaultValue = "1",
      description = "libtorch and ONNX Runtime threads")
  int threads;

  @Option(
      names = "--checkpoint",
      description =
          "checkpoint directory; a run finds its own there and resumes (default: OUT.checkpoint)")
  String checkpoint;

  @Option(
      names = "--checkpoint-every",
      defaultValue = "100",
      description = "steps between checkpoints")
  int checkpointEvery;

  @Option(
      names = Cli.QAT,
      description =
          "int8: quantization-aware training (fake-quantized weights per channel and activations"
              + " per tensor, straight-through gradients); the output has Q/DQ nodes")
  String qat;

  @Option(
      names = Cli.PROGRESSIVE,
      description =
          "prune the dense weights 1:4 and recover for half the steps, then 2:4 and recover")
  boolean progressive;

  @Option(
      names = Cli.LABELS,
      description =
          "a class per training sentence, line by line (with --held-out absent, its last lines go"
              + " with the held-out sentences): adds a task loss, a cosine classifier on the"
              + " sentence embeddings, dropped at export")
  String labels;

  @Option(
      names = "--task-loss-weight",
      defaultValue = "0.1",
      description =
          "weight of the task loss from --labels beside the distillation terms (MiniLM, Debian"
              + " sections: 0.1 raised held-out 1-NN accuracy from 0.520 to 0.550 and cost 0.016"
              + " of fidelity)")
  double taskLossWeight;

  @Option(
      names = Cli.NO_DISTILLATION,
      description = "train on the task loss from --labels alone, without the teacher's terms")
  boolean noDistillation;

  @Option(
      names = Cli.WORKERS,
      description =
          "data-parallel workers, each started alike with its own --rank (default: WORLD_SIZE,"
              + " then a TrainJob's PET_NNODES, or 1);"
              + " each trains on its share of every --batch-size batch, gradients summed through"
              + " Gloo")
  Integer workers;

  @Option(
      names = Cli.RANK,
      description =
          "this worker's rank, 0 to workers-1 (default: RANK, then PET_NODE_RANK, then an"
              + " Indexed Job's JOB_COMPLETION_INDEX; required with more than one worker)")
  Integer rank;

  @Option(
      names = Cli.MASTER,
      description =
          "HOST:PORT where rank 0 runs the rendezvous (default: MASTER_ADDR and MASTER_PORT,"
              + " then PET_MASTER_ADDR and PET_MASTER_PORT)")
  String master;

  /** The flags, else the variables the usual launchers set ({@link WorkerEnvironment}). */
  private DataParallel.Worker worker() {
    return WorkerEnvironment.resolve(workers, rank, master, System.getenv());
  }

  @Override
  public Integer call() {
    // The student first: a replaced one is refused before any data is read.
    Path initPath = init == null ? null : run.input(init, expectSha256);
    boolean tensors = NpzFile.isNpz(Path.of(train));
    if (heldOut != null && NpzFile.isNpz(Path.of(heldOut)) != tensors) {
      throw new SparsifyException(
          "--train and --held-out must both be sentences or both .npz tensors; got "
              + train
              + " and "
              + heldOut);
    }
    ModelTask modelTask = task == null ? null : TextOptions.task(task);
    boolean pairs = modelTask != null && modelTask.pairs();
    if (modelTask == ModelTask.TENSOR) {
      throw new SparsifyException(
          Cli.TASK
              + " tensor: a model of raw outputs is not fine-tuned yet (no loss distils its"
              + " outputs); prune it one-shot (sparsify prune, sparsegpt or magnitude)");
    }
    if (tensors && modelTask != null && modelTask != ModelTask.CLASSIFICATION) {
      throw new SparsifyException(
          Cli.TASK
              + " "
              + modelTask.word()
              + " reads text; a model of tensors ("
              + train
              + ") is fine-tuned as a classifier: --task classification, or none");
    }
    if (pairs && labels != null) {
      throw new SparsifyException(
          "--labels adds a task loss on sentence embeddings; a ranker is fine-tuned by distilling"
              + " its scores: drop --labels");
    }
    if (tensors && labels != null) {
      throw new SparsifyException(
          "--labels adds a task loss on sentence embeddings; a model of tensors is fine-tuned by"
              + " distillation from its teacher alone: drop --labels");
    }
    if (!tensors && tokenizer == null) {
      throw new SparsifyException(
          Cli.TRAIN
              + " of sentences needs "
              + Cli.TOKENIZER
              + " (an .npz file of tensors does not)");
    }
    if (noDistillation && (tensors || pairs)) {
      throw new SparsifyException(
          Cli.NO_DISTILLATION
              + " trains on a task loss from labels, which is for sentence encoders; a "
              + (tensors ? "model of tensors" : "ranker")
              + " is fine-tuned by distillation: drop "
              + Cli.NO_DISTILLATION);
    }
    if (noDistillation && labels == null) {
      throw new SparsifyException(
          "--no-distillation trains on the task loss alone, which needs --labels (a class per"
              + " training sentence)");
    }
    if (qat != null && !qat.equals("int8")) {
      throw new SparsifyException("--qat takes int8, got " + qat);
    }
    if (init != null && (!include.isEmpty() || !exclude.isEmpty())) {
      throw new SparsifyException(
          "--include/--exclude choose what to prune from the dense weights; --init is pruned"
              + " already: drop them or --init");
    }
    if (progressive && init != null) {
      throw new SparsifyException(
          "--progressive prunes the dense weights itself (1:4, then 2:4); drop --init");
    }
    DataParallel.Worker worker = worker();
    if (steps < 1 || batchSize < 1 || evalEvery < 1 || learningRate <= 0) {
      throw new SparsifyException("--steps, --batch-size, --eval-every and --lr must be positive");
    }
    if (tokenLossWeight < 0 || layerLossWeight < 0 || taskLossWeight < 0) {
      throw new SparsifyException(
          "--token-loss-weight, --layer-loss-weight and --task-loss-weight must not be negative");
    }
    TrainingSamples samples = tensors ? tensorSamples() : sentenceSamples(pairs);
    FineTuner.Report report;
    // Worker 0 (or the only worker) serves its progress where the operator reads it.
    try (ProgressEndpoint endpoint =
        worker.rank() == 0 ? ProgressEndpoint.fromEnvironment() : ProgressEndpoint.none()) {
      report =
          FineTuner.run(
              new FineTuner.Inputs(
                  run.input(dense),
                  initPath,
                  new LayerFinder(include, exclude),
                  samples.training(),
                  samples.evaluation(),
                  run.output(out),
                  modelTask),
              options(),
              new FineTuner.Resume(
                  checkpoint != null
                      ? Path.of(checkpoint)
                      : Path.of(run.output(out).toString() + ".checkpoint"),
                  checkpointEvery),
              threads,
              run::progress,
              endpoint::update,
              worker);
    }
    return finish(worker, report);
  }

  private record TrainingSamples(TrainingData training, List<? extends Batch> evaluation) {}

  /** An .npz file's samples, its last 10% (at most 300) held out unless --held-out is given. */
  private TrainingSamples tensorSamples() {
    Map<String, NpzFile.Array> arrays = NpzFile.read(run.input(train), Cli.TRAIN);
    int total = NpzFile.samples(arrays);
    int held = heldOut != null ? 0 : Math.min(300, total / 10);
    if (heldOut == null && held < 1) {
      throw new SparsifyException(Cli.TRAIN + " needs at least 10 samples to hold some out");
    }
    List<TensorBatch> training = NpzFile.batches(arrays, 0, total - held, batchSize);
    List<TensorBatch> evaluation =
        heldOut != null
            ? NpzFile.batches(NpzFile.read(run.input(heldOut), "--held-out"), 0, 0, 32)
            : NpzFile.batches(arrays, total - held, held, 32);
    OnnxModel denseModel = OnnxModel.load(run.input(dense));
    ModelInputs.check(denseModel, training);
    ModelInputs.check(denseModel, evaluation);
    return new TrainingSamples(TrainingData.ofTensors(training, TRAINING_ORDER_SEED), evaluation);
  }

  /** {@code pairs}: every line a query<TAB>document pair, checked and encoded as one. */
  private TrainingSamples sentenceSamples(boolean pairs) {
    List<String> sentences = Sentences.read(run.input(train), "--train");
    if (pairs) {
      Pairs.check(sentences, "--train");
    }
    List<String> classes = labels == null ? null : Sentences.read(run.input(labels), "--labels");
    if (classes != null && classes.size() != sentences.size()) {
      throw new SparsifyException(
          "--labels holds "
              + classes.size()
              + " labels for "
              + sentences.size()
              + " --train sentences: give one label per sentence, line by line");
    }
    List<String> evaluation;
    List<String> training;
    List<String> trainingClasses = classes;
    if (heldOut != null) {
      evaluation = Sentences.read(run.input(heldOut), "--held-out");
      if (pairs) {
        Pairs.check(evaluation, "--held-out");
      }
      training = sentences;
    } else {
      int held = Math.min(300, sentences.size() / 10);
      if (held < 1) {
        throw new SparsifyException("--train needs at least 10 sentences to hold some out");
      }
      training = sentences.subList(0, sentences.size() - held);
      evaluation = sentences.subList(sentences.size() - held, sentences.size());
      if (classes != null) {
        trainingClasses = classes.subList(0, training.size());
      }
    }
    try (TextTokenizer tokens = TextTokenizer.load(run.input(tokenizer), maxLength, pairs)) {
      return new TrainingSamples(
          TrainingData.of(tokens, training, trainingClasses, batchSize, TRAINING_ORDER_SEED),
          tokens.batches(evaluation, 32));
    }
  }

  private FineTuner.Options options() {
    return new FineTuner.Options(
        steps,
        batchSize,
        learningRate,
        weightDecay,
        evalEvery,
        tokenLossWeight,
        layerLossWeight,
        taskLossWeight,
        !noDistillation,
        progressive,
        qat != null);
  }

  private int finish(DataParallel.Worker worker, FineTuner.Report report) {
    if (worker.rank() > 0) {
      // Worker 0 writes the model, the report and the result; the others only say they are done.
      run.progress(
          "worker " + worker.rank() + " of " + worker.workers() + " done; worker 0 wrote " + out);
      return 0;
    }
    run.finish(
        report,
        new FineTuneResult(
            out,
            report.start(),
            report.steps(),
            report.initialFidelity(),
            report.finalFidelity(),
            report.seconds(),
            Sha256.of(run.output(out))),
        console ->
            console.printf(
                "fine-tuned %d tensors (%d layers kept 2:4) for %d steps in %.0f s: held-out"
                    + " fidelity %.4f -> %.4f -> %s%n",
                report.trainedTensors(),
                report.maskedLayers(),
                report.steps(),
                report.seconds(),
                report.initialFidelity(),
                report.finalFidelity(),
                Path.of(out)));
    return 0;
  }
}
