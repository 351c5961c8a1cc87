// `*_file` settings (password_file, api_secret_file, ca_file, client_cert_file, client_key_file,
// cert_file, key_file) name a file whose contents become their sibling setting, so that secrets
// and PEMs can come from mounted files (Docker and Kubernetes secrets) instead of the YAML.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ProblemList, SettingPath } from './problems.ts';
import { formatPath } from './problems.ts';
import type { SettingSchema } from './schema.ts';
import { configSchema } from './schema.ts';

interface FileReference {
  readonly node: Record<string, unknown>;
  readonly fileKey: string;
  readonly targetKey: string;
  readonly path: SettingPath;
  readonly secret: boolean;
}

function collect(value: unknown, schema: SettingSchema | undefined, path: SettingPath, found: FileReference[]): void {
  if (schema === undefined || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => collect(item, schema.items, [...path, index], found));
    return;
  }
  const node = value as Record<string, unknown>;
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const target = property['x-file-for'];
    if (target !== undefined && typeof node[key] === 'string') {
      const secret = schema.properties?.[target]?.['x-secret'] === true;
      found.push({ node, fileKey: key, targetKey: target, path, secret });
    } else {
      collect(node[key], property, [...path, key], found);
    }
  }
}

/**
 * Replaces each `*_file` key by its sibling setting holding the file's contents. Relative paths
 * are resolved against `baseDir` (the configuration file's directory). Passwords and API secrets
 * read from files lose trailing line breaks, which editors and `echo` add; PEM text is kept whole. Problems go to `problems`; `origins`
 * records where each value came from.
 */
export async function resolveSecretFiles(
  document: unknown,
  baseDir: string,
  problems: ProblemList,
  origins: Map<string, string>,
): Promise<void> {
  const references: FileReference[] = [];
  collect(document, configSchema, [], references);
  // Read in parallel, then apply in document order so that problems keep a stable order.
  const reads = await Promise.all(
    references.map(async (reference) => {
      const file = resolve(baseDir, reference.node[reference.fileKey] as string);
      try {
        return { reference, file, contents: await readFile(file, 'utf8') };
      } catch (error) {
        return { reference, file, code: (error as NodeJS.ErrnoException).code ?? 'an unknown error' };
      }
    }),
  );
  for (const { reference, file, contents, code } of reads) {
    const { node, fileKey, targetKey, path, secret } = reference;
    delete node[fileKey];
    if (node[targetKey] !== undefined) {
      problems.add([...path, fileKey], `is set together with ${targetKey}`, `keep one of ${fileKey} and ${targetKey}`);
    } else if (contents !== undefined) {
      node[targetKey] = secret && !targetKey.endsWith('_pem') ? contents.replace(/[\r\n]+$/, '') : contents;
      origins.set(formatPath([...path, targetKey]), `file ${file}`);
    } else {
      const reason =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'EACCES'
            ? 'is not readable by the forwarder'
            : `cannot be read (${code})`;
      problems.add(
        [...path, fileKey],
        `the file ${file} ${reason}`,
        "check the path (a relative path starts at the configuration file's directory) and its permissions",
      );
    }
  }
}
