import type { Node } from 'constructs';
import { z } from 'zod';

/** The real farmers' market; inventory-app buys there unless told otherwise. */
export const REAL_MARKET_URL = 'https://recruitment.alegra.com/api/farmers-market/buy';

// `cdk -c key=value` passes strings; cdk.json passes JSON values. Accept both for flags and numbers.
const flag = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
const count = z.coerce.number().int().min(0);

/**
 * Everything the CDK app reads from its context (cdk.json, or `-c key=value`), validated once.
 * The defaults are a production-shaped deployment on Fargate buying from the real market.
 */
export const Settings = z
  .object({
    /** Target account and region. cdk.json pins a placeholder account so synth works offline. */
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'),
    /** Tag of the four images in ECR; the deploy workflow passes the git commit sha. */
    imageTag: z.string().regex(/^[\w][\w.-]{0,127}$/, 'must be a valid image tag').default('latest'),
    /** `fargate`, or `external` for ECS Anywhere: tasks on your own registered machines. */
    capacity: z.enum(['fargate', 'external']).default('fargate'),
    /** With ECS Anywhere: the network of the registered machines, allowed into Redis and PostgreSQL. */
    externalCidr: z.cidrv4().optional(),
    /**
     * ACM certificate for the load balancer: HTTPS on 443, HTTP only redirects to it. Required on
     * Fargate unless `allowPlainHttp` says otherwise.
     */
    certificateArn: z
      .string()
      .regex(/^arn:aws[\w-]*:acm:[\w-]+:\d{12}:certificate\/[\w-]+$/, 'must be an ACM certificate ARN')
      .optional(),
    /** A throwaway demo without a certificate: the load balancer serves plain HTTP (with a warning). */
    allowPlainHttp: flag.default(false),
    /**
     * The SNS topic every alarm notifies (the operator owns it and its subscriptions). Required unless
     * `allowNoAlarmTopic`, which gives the alarms a topic of the stack's own that nobody is subscribed to.
     */
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/, 'must be an SNS topic ARN')
      .optional(),
    /** A throwaway demo without an alarm topic: the alarms exist, but notify no one (with a warning). */
    allowNoAlarmTopic: flag.default(false),
    /** `real` buys at MARKET_URL (the real market by default); `simulator` deploys the simulator. */
    market: z.enum(['real', 'simulator']).default('real'),
    marketUrl: z.url({ protocol: /^https?$/ }).default(REAL_MARKET_URL),
    /** The ECS cluster's name; the deploy workflow waits on its services. */
    clusterName: z.string().regex(/^[A-Za-z][\w-]{0,254}$/).default('free-lunch'),
    natGateways: count.max(3).default(2),
    /** RDS deletion protection; turn off only to tear a test deployment down. */
    deletionProtection: flag.default(true),
    /** Import an existing Secrets Manager secret (by name) as MANAGER_TOKENS instead of generating one. */
    managerTokenSecretName: z.string().min(1).optional(),
    /** `owner/repo`: creates the stack with the GitHub OIDC deploy role for that repository. */
    githubRepository: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/repo')
      .optional(),
    /** GitHub environment the deploy job runs in; the role trusts only that environment. */
    githubEnvironment: z.string().min(1).default('production'),
    /** An account has one GitHub OIDC provider; pass its ARN when it exists already. */
    githubOidcProviderArn: z.string().startsWith('arn:').optional(),
    /** The CDK bootstrap qualifier the deploy role may use (cdk bootstrap's default). */
    bootstrapQualifier: z.string().regex(/^[a-z0-9]{1,10}$/).default('hnb659fds'),
  })
  .superRefine((settings, context) => {
    // Fail closed: a deployment without HTTPS or without anyone told of its alarms is a choice made
    // out loud, never the result of a forgotten setting.
    if (settings.capacity === 'fargate' && !settings.certificateArn && !settings.allowPlainHttp) {
      context.addIssue({
        code: 'custom',
        path: ['certificateArn'],
        message:
          'is required: the load balancer serves the API and the manager token over HTTPS only. Pass ' +
          '-c certificateArn=<ACM certificate ARN in this region>, or -c allowPlainHttp=true for a throwaway demo',
      });
    }
    if (!settings.alarmTopicArn && !settings.allowNoAlarmTopic) {
      context.addIssue({
        code: 'custom',
        path: ['alarmTopicArn'],
        message:
          'is required: the SNS topic the alarms notify. Pass -c alarmTopicArn=<SNS topic ARN>, or ' +
          '-c allowNoAlarmTopic=true for a throwaway demo whose alarms notify no one',
      });
    }
    if (settings.capacity === 'external' && !settings.externalCidr) {
      context.addIssue({
        code: 'custom',
        path: ['externalCidr'],
        message: 'is required with capacity=external: the registered machines reach Redis and PostgreSQL from it',
      });
    }
    if (settings.capacity === 'external' && settings.market === 'simulator') {
      context.addIssue({
        code: 'custom',
        path: ['market'],
        message: 'simulator runs on Fargate only; with capacity=external point marketUrl at a simulator you run',
      });
    }
  });
export type Settings = z.infer<typeof Settings>;

const KEYS = Object.keys(Settings.shape);

/** Reads and validates the context; throws one error naming every bad key. */
export function readSettings(node: Node, fallback: Partial<Record<string, string>> = {}): Settings {
  const raw: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value: unknown = node.tryGetContext(key) ?? fallback[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const result = Settings.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(context)'}: ${issue.message}`);
  throw new Error(`Invalid CDK context (cdk.json or -c key=value):\n${problems.join('\n')}`);
}
