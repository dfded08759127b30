import { build } from 'esbuild';

/**
 * Bundle one console entry file (TypeScript, with what it imports, the SDK
 * among them) into a single browser ES module, in memory.
 *
 * The platform is `browser`: an import of a Node built-in (`node:crypto`,
 * `fs`) anywhere in the graph fails the build instead of reaching a page
 * that cannot run it.
 *
 * @throws Error esbuild's build failure, with every message (file, line, text).
 * @example
 * const js = await bundleScript('/repo/src/console/app.ts');
 */
export async function bundleScript(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}
