// `whet demo`: flags → the demo recipe (recipes/demo_run.ts), which prints its own summary.
import { Command } from "commander";
import { DEMO_DEFAULTS, PRETRAIN_DEFAULTS, runDemo } from "../recipes/demo_run.js";

export { runDemo, type DemoOptions } from "../recipes/demo_run.js";

export function demoCommand(): Command {
  const d = DEMO_DEFAULTS;
  return new Command("demo")
    .description("offline end-to-end demo on WordNet: pretrain a small BERT (masked-LM), fine-tune it to classify definitions, compare with training from scratch")
    .option("--output-dir <dir>", "where everything is written", d.outputDir)
    .option("--model <dir-or-id>", "fine-tune this model (Hub id or folder) instead of pretraining one")
    .option("--seed <n>", "seed of the data split, initialisation and training", Number, d.seed)
    .option("--threads <n>", "ONNX Runtime threads (default: all cores)", Number)
    .option("--train-per-class <n>", "training definitions per class", Number, d.trainPerClass)
    .option("--test-per-class <n>", "test definitions per class", Number, d.testPerClass)
    .option("--pretrain-steps <n>", "masked-LM optimizer steps", Number, d.pretrainSteps)
    .option("--pretrain-batch-size <n>", "glosses per masked-LM step", Number, PRETRAIN_DEFAULTS.batchSize)
    .option("--pretrain-learning-rate <lr>", "peak masked-LM learning rate", Number, PRETRAIN_DEFAULTS.learningRate)
    .option("--finetune-epochs <n>", "fine-tuning epochs", Number, d.finetuneEpochs)
    .option("--hidden-size <n>", "hidden size of the pretrained BERT", Number, d.hidden)
    .option("--num-hidden-layers <n>", "layers of the pretrained BERT", Number, d.layers)
    .option("--vocab-size <n>", "WordPiece vocabulary trained on the glosses", Number, d.vocabSize)
    .option("--learning-rate <lr>", "fine-tuning learning rate (default 1e-3; 5e-5 with --model)", Number)
    .option("--no-baseline", "skip the from-scratch baseline")
    .action(async (x) => {
      await runDemo({
        outputDir: x.outputDir, model: x.model, seed: x.seed, threads: x.threads, trainPerClass: x.trainPerClass, testPerClass: x.testPerClass,
        pretrainSteps: x.pretrainSteps, finetuneEpochs: x.finetuneEpochs, hidden: x.hiddenSize, layers: x.numHiddenLayers, vocabSize: x.vocabSize,
        baseline: x.baseline, learningRate: x.learningRate, pretrain: { batchSize: x.pretrainBatchSize, learningRate: x.pretrainLearningRate }, log: (l) => console.error(l),
      });
    });
}
