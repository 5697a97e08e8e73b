// Public surface of the tokenizers layer: load a Hugging Face tokenizer folder, encode, decode, save.
export type { AddedTokenSpec, ResolvedConfig, SpecialTokenKey } from "./tokenizer_config.js";
export type { BatchEncoding, Encoding } from "./encoding.js";
export { loadTokenizer, type LoadOptions } from "./load.js";
export { Tokenizer, type BatchOptions, type DecodeOptions, type EncodeOptions } from "./tokenizer.js";
export type { TruncationStrategy } from "./truncation.js";
export { boundText, charBound, CHARS_PER_TOKEN, type BoundedText } from "./text_bound.js";
