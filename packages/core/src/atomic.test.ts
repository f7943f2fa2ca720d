import * as path from 'path';
import { describeWriteError, writeFileAtomic } from './atomic';
import { PretrainError } from './errors';

const errno = (code: string) => Object.assign(new Error(`${code}: raw message`), { code });

describe('write errors say which folder and what to do', () => {
  it.each([
    ['ENOSPC', /^cannot write \/data\/run\/model\.safetensors: no space left on the disk holding \/data\/run \(ENOSPC\): free some space there, or write the run somewhere else \(--out DIR, trainer\.outputDir\)$/],
    ['EACCES', /^cannot write \/data\/run\/model\.safetensors: permission denied in \/data\/run \(EACCES\): make that folder writable for this user, or write the run somewhere else/],
    ['EROFS', /read-only file system \(EROFS\): write the run somewhere else/],
  ])('%s', (code, message) => {
    const described = describeWriteError(errno(code), '/data/run/model.safetensors');
    expect(described).toBeInstanceOf(PretrainError);
    expect((described as Error).message).toMatch(message);
  });

  it('leaves other errors unchanged', () => {
    const other = errno('EISDIR');
    expect(describeWriteError(other, '/x')).toBe(other);
  });

  const unwritable = '/sys/pretrain-unwritable';
  it('writeFileAtomic into a folder that cannot be created names it (real EPERM/EACCES from /sys)', () => {
    expect(() => writeFileAtomic(path.join(unwritable, 'config.json'), '{}')).toThrow(/^cannot write \/sys\/pretrain-unwritable: permission denied in \/sys \((EPERM|EACCES)\)/);
  });
});
