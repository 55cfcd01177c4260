import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addFreeLunch, type FreeLunchStacks } from '../lib/free-lunch-app.js';

/** cdk.json's context: the placeholder account, its availability zones and the feature flags. */
export const cdkJsonContext: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../cdk.json', import.meta.url), 'utf8'),
).context;

/** A placeholder ACM certificate in cdk.json's account and region. */
export const CERTIFICATE = 'arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
/** A placeholder SNS topic the alarms notify. */
export const ALARM_TOPIC = 'arn:aws:sns:us-east-1:111111111111:free-lunch-alarms';
/** What a production deployment must be given: a certificate and an alarm topic. */
export const PRODUCTION: Record<string, string> = { certificateArn: CERTIFICATE, alarmTopicArn: ALARM_TOPIC };

/** One cdk-nag finding nobody acknowledged, from CDK's validation report. */
export interface Finding {
  rule: string;
  path: string;
}

export interface Synthesized {
  stacks: FreeLunchStacks;
  /** The FreeLunch stack (the system). */
  app: Template;
  registry: Template;
  github?: Template;
  /** What cdk-nag's AWS Solutions checks found and nobody acknowledged; `cdk synth` fails on any. */
  findings: Finding[];
}

interface ValidationReport {
  pluginReports: Array<{
    violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
  }>;
}

/**
 * Synthesizes the CDK app as `cdk synth` does (cdk.json's context, the same cdk-nag checks),
 * offline, into a temporary directory. `context` overrides cdk.json, as `-c key=value` does.
 * A synth that cdk-nag fails still returns, with the findings, so a test can say which.
 */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'free-lunch-cdk-'));
  try {
    const app = new App({ outdir, context: { ...cdkJsonContext, ...context } });
    const stacks = addFreeLunch(app);
    let failed = false;
    try {
      app.synth();
    } catch (error) {
      // cdk-nag's findings fail the synth with a report; anything else is a real error.
      if (!existsSync(join(outdir, 'validation-report.json'))) throw error;
      failed = true;
    }
    const reportFile = join(outdir, 'validation-report.json');
    const report: ValidationReport = existsSync(reportFile)
      ? JSON.parse(readFileSync(reportFile, 'utf8'))
      : { pluginReports: [] };
    const findings = report.pluginReports.flatMap(({ violations }) =>
      violations.flatMap(({ ruleName, violatingConstructs }) =>
        violatingConstructs.map(({ constructPath }) => ({ rule: ruleName, path: constructPath })),
      ),
    );
    // Templates exist only when synth passed; asking for one otherwise says why there is none.
    const template = (stack: Stack | undefined) => {
      if (failed) throw new Error(`cdk synth failed on cdk-nag findings: ${JSON.stringify(findings, null, 2)}`);
      return stack && Template.fromStack(stack);
    };
    const [appTemplate, registry, github] = failed
      ? [undefined, undefined, undefined]
      : [template(stacks.app), template(stacks.registry), template(stacks.github)];
    return {
      stacks,
      get app() {
        return appTemplate ?? template(stacks.app)!;
      },
      get registry() {
        return registry ?? template(stacks.registry)!;
      },
      github: github,
      findings,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
