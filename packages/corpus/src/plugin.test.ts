import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, Registry, parseWithPath } from '@pretrain/core';
import { pretrainPlugins, textCorpusPlugin } from './index';
import { TextCorpus } from './text/text-corpus';
import { tempDir } from './test-utils/temp';

describe('corpus plugin', () => {
  it('registers as corpus "text" and creates a TextCorpus resolving paths against the config directory', async () => {
    const registry = new Registry();
    for (const plugin of pretrainPlugins) registry.register(plugin);
    const definition = registry.lookup('corpus', 'text')!;
    expect(definition).toBe(textCorpusPlugin);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'One. Two.\n\nThree.\n');
    const options = parseWithPath(definition.options, { paths: 'a.txt', shuffle: false }, 'corpus.options');
    expect(options).toMatchObject({ paths: ['a.txt'], layout: 'paragraphs', locale: 'en', validationFraction: 0 });
    const corpus = (await definition.create(options, { baseDir: dir, seed: 42 })) as TextCorpus;
    const docs = [];
    for await (const doc of corpus.documents()) docs.push(doc);
    expect(docs.map((d) => d.sentences)).toEqual([['One.', 'Two.'], ['Three.']]);
  });

  it('rejects bad options with the config path named', () => {
    const parse = (value: unknown) => () => parseWithPath(textCorpusPlugin.options, value, 'corpus.options');
    expect(parse({ paths: [], layout: 'lines' })).toThrow(ConfigError);
    expect(parse({ paths: ['x'], layout: 'lines' })).toThrow(/corpus\.options\.layout/);
    expect(parse({ paths: ['x'], validationFraction: 1 })).toThrow(/corpus\.options\.validationFraction/);
    expect(parse({ paths: ['x'], locale: 'not a locale!' })).toThrow(/corpus\.options\.locale/);
    expect(parse({ paths: ['x'], typo: true })).toThrow(/typo/);
  });
});
