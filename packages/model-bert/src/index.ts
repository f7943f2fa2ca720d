export * from './nn';
export * from './config';
export * from './model';
export * from './checkpoint';
export * from './plugin';
