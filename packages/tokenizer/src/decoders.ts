/** Decoders: turn tokens back into text (the last pipeline stage, used by `decode`). */
import { fromByteLevel } from './byte-level';
import { expectArray, expectType, JSONObject, optBool, optString, unknownType } from './json-path';

export interface Decoder {
  /** HF `decode_chain`: per-token strings that are concatenated afterwards. */
  decodeChain(tokens: string[]): string[];
  toJSON(): JSONObject;
}

/** HF's `cleanup` (also transformers' `clean_up_tokenization_spaces`). */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export class WordPieceDecoder implements Decoder {
  constructor(
    readonly prefix = '##',
    readonly cleanup = true,
  ) {}

  decodeChain(tokens: string[]): string[] {
    return tokens.map((token, i) => {
      let out = token;
      if (i !== 0) out = token.startsWith(this.prefix) ? token.replace(this.prefix, '') : ` ${token}`;
      return this.cleanup ? cleanUpTokenization(out) : out;
    });
  }

  toJSON(): JSONObject {
    return { type: 'WordPiece', prefix: this.prefix, cleanup: this.cleanup };
  }
}

export class ByteLevelDecoder implements Decoder {
  constructor(
    readonly addPrefixSpace = true,
    readonly trimOffsets = true,
    readonly useRegex = true,
  ) {}

  decodeChain(tokens: string[]): string[] {
    return [fromByteLevel(tokens.join(''))];
  }

  toJSON(): JSONObject {
    return { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

/** HF `BPEDecoder`: the end-of-word suffix becomes a space. */
export class BPEDecoder implements Decoder {
  constructor(readonly suffix = '</w>') {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((token, i) => token.replaceAll(this.suffix, i === tokens.length - 1 ? '' : ' '));
  }
  toJSON(): JSONObject {
    return { type: 'BPEDecoder', suffix: this.suffix };
  }
}

export class DecoderSequence implements Decoder {
  constructor(readonly decoders: Decoder[]) {}
  decodeChain(tokens: string[]): string[] {
    let out = tokens;
    for (const d of this.decoders) out = d.decodeChain(out);
    return out;
  }
  toJSON(): JSONObject {
    return { type: 'Sequence', decoders: this.decoders.map((d) => d.toJSON()) };
  }
}

const DECODER_TYPES = ['WordPiece', 'ByteLevel', 'BPEDecoder', 'Sequence'];

export function decoderFromJSON(value: unknown, jsonPath: string): Decoder {
  const { obj, type } = expectType(value, jsonPath);
  switch (type) {
    case 'WordPiece':
      return new WordPieceDecoder(optString(obj, 'prefix', jsonPath, '##'), optBool(obj, 'cleanup', jsonPath, true));
    case 'ByteLevel':
      return new ByteLevelDecoder(optBool(obj, 'add_prefix_space', jsonPath, true), optBool(obj, 'trim_offsets', jsonPath, true), optBool(obj, 'use_regex', jsonPath, true));
    case 'BPEDecoder':
      return new BPEDecoder(optString(obj, 'suffix', jsonPath, '</w>'));
    case 'Sequence':
      return new DecoderSequence(expectArray(obj.decoders, `${jsonPath}.decoders`).map((d, i) => decoderFromJSON(d, `${jsonPath}.decoders[${i}]`)));
    default:
      return unknownType(jsonPath, type, DECODER_TYPES);
  }
}
