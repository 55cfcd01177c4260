import type { IConstruct } from 'constructs';
import { describe, expect, it, vi } from 'vitest';
import { ALARM_TOPIC, PRODUCTION, synthesize, type Finding } from './synth.js';

// Every cdk-nag acknowledgement in the app goes through lib/nag.ts. Here it records instead of
// acknowledging, so the synth shows what each acknowledgement was hiding.
const acknowledgements = vi.hoisted(() => [] as Array<{ path: string; id: string; reason: string }>);
vi.mock('../lib/nag.js', () => ({
  acknowledge: (construct: IConstruct, id: string, reason: string) => {
    acknowledgements.push({ path: construct.node.path, id, reason });
  },
}));

const covers = (acknowledgement: { path: string; id: string }, finding: Finding) =>
  finding.rule === acknowledgement.id && `${finding.path}/`.startsWith(`${acknowledgement.path}/`);

describe('cdk-nag acknowledgements', () => {
  it('when the acknowledgements are taken away, then each one hid a real finding, every finding is among them, and each says why', () => {
    const findings = [
      ...synthesize({ ...PRODUCTION, githubRepository: 'acme/free-lunch', market: 'simulator' }).findings,
      ...synthesize({
        capacity: 'external',
        externalCidr: '10.99.0.0/16',
        deletionProtection: false,
        alarmTopicArn: ALARM_TOPIC,
      }).findings,
      // A demo: plain HTTP, and the stack's own alarm topic.
      ...synthesize({ allowPlainHttp: true, allowNoAlarmTopic: true }).findings,
      // The demo's warning (not cdk-nag's) is asserted in deployment-variants.test.ts.
    ].filter(({ rule }) => rule.startsWith('AwsSolutions-'));
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) {
      expect(acknowledgements.some((acknowledgement) => covers(acknowledgement, finding)), JSON.stringify(finding)).toBe(true);
    }
    for (const acknowledgement of acknowledgements) {
      expect(findings.some((finding) => covers(acknowledgement, finding)), `stale: ${JSON.stringify(acknowledgement)}`).toBe(true);
      expect(acknowledgement.reason.length, acknowledgement.id).toBeGreaterThan(60);
    }
    // The list docs/deploy-aws.md explains, one kind per line.
    expect([...new Set(acknowledgements.map(({ id }) => id.replace(/\[.*$/, '')))].sort()).toEqual([
      'AwsSolutions-AEC6',
      'AwsSolutions-EC23',
      'AwsSolutions-ECS2',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-RDS10',
      'AwsSolutions-S1',
      'AwsSolutions-SMG4',
    ]);
  }, 180_000);
});
