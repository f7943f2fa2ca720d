import * as fs from 'fs';
import { PretrainError } from './errors';

/** A JSON file's value; invalid JSON is a `PretrainError` naming the file. The caller validates the shape. */
export function readJsonFile(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PretrainError(`${file}: not valid JSON (${(error as Error).message})`, { file, cause: error });
  }
}
