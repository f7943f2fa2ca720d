export * from './classification';
export * from './correlation';
export * from './seqeval';
export * from './squad';
export * from './perplexity';
