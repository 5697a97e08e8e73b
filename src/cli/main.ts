#!/usr/bin/env node
import { Command } from "commander";
import { benchCommand } from "./bench.js";
import { evaluateCommand } from "./evaluate.js";
import { forwardCommand, predictCommand, tokenizeCommand } from "./inference.js";
import { trainCommand } from "./train.js";

const program = new Command("whet")
  .description("fine-tune transformer language models in TypeScript")
  .version("0.1.0")
  .addCommand(trainCommand())
  .addCommand(evaluateCommand())
  .addCommand(benchCommand())
  .addCommand(forwardCommand())
  .addCommand(predictCommand())
  .addCommand(tokenizeCommand());

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`whet: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
