import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The part of esbuild's API used here (the workspace's esbuild has no types in infra's scope). */
interface Esbuild {
  buildSync(options: Record<string, unknown>): { errors: unknown[] };
}

/**
 * The workspace's own esbuild: the one tsx runs on (infra's devDependency), found through tsx so
 * that synth bundles offline with the exact version the lockfile pins, no Docker and no download.
 */
function workspaceEsbuild(): Esbuild {
  const fromInfra = createRequire(import.meta.url);
  return createRequire(fromInfra.resolve('tsx'))('esbuild') as Esbuild;
}

/**
 * A Lambda's code: `entry` (under infra/runtime) bundled with its imports into one ES module,
 * `index.mjs`, for the Node.js 24 runtime. The asset's hash is the bundle's, so a change in anything
 * it imports (e.g. @free-lunch/service-kit's provisioning) deploys a new version.
 */
export function bundledCode(entry: string, external: string[]): lambda.Code {
  const runtime = fileURLToPath(new URL('../runtime/', import.meta.url));
  return lambda.Code.fromAsset(runtime, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling were impossible; it never is here.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
      local: {
        tryBundle(outputDir: string) {
          workspaceEsbuild().buildSync({
            entryPoints: [join(runtime, entry)],
            outfile: join(outputDir, 'index.mjs'),
            bundle: true,
            platform: 'node',
            target: 'node24',
            format: 'esm',
            external,
            // ESM that bundles CommonJS (pg) needs a require of its own.
            banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
            minify: true,
            logLevel: 'error',
          });
          return true;
        },
      },
    },
  });
}

