import type { Template } from 'aws-cdk-lib/assertions';

/** A CloudFormation resource as a test reads it. */
export interface Resource {
  Type: string;
  Properties: Record<string, any>;
}

export function resources(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.findResources(type) as Record<string, Resource>);
}

/** The logical id a `{ Ref }` or `{ Fn::GetAtt: [id, …] }` points at. */
export function referenced(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    if ('Ref' in value) return String((value as { Ref: string }).Ref);
    if ('Fn::GetAtt' in value) return String((value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
  }
  return undefined;
}

/** Every ingress rule of every security group: inline ones and AWS::EC2::SecurityGroupIngress. */
export function ingressRules(template: Template): Array<{ group: string; rule: Record<string, any> }> {
  const inline = resources(template, 'AWS::EC2::SecurityGroup').flatMap(([id, { Properties }]) =>
    ((Properties.SecurityGroupIngress ?? []) as Array<Record<string, any>>).map((rule) => ({ group: id, rule })),
  );
  const separate = resources(template, 'AWS::EC2::SecurityGroupIngress').map(([, { Properties }]) => ({
    group: referenced(Properties.GroupId)!,
    rule: Properties,
  }));
  return [...inline, ...separate];
}

export interface ContainerDefinition {
  Name: string;
  Environment?: Array<{ Name: string; Value: unknown }>;
  Secrets?: Array<{ Name: string; ValueFrom: unknown }>;
  [key: string]: any;
}

/** Every container of every task definition, with its task definition's logical id. */
export function containers(template: Template): Array<{ task: string; container: ContainerDefinition }> {
  return resources(template, 'AWS::ECS::TaskDefinition').flatMap(([task, { Properties }]) =>
    (Properties.ContainerDefinitions as ContainerDefinition[]).map((container) => ({ task, container })),
  );
}

export function container(template: Template, name: string): ContainerDefinition {
  const found = containers(template).find(({ container }) => container.Name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found.container;
}

export function environmentOf(container: ContainerDefinition): Record<string, unknown> {
  return Object.fromEntries((container.Environment ?? []).map(({ Name, Value }) => [Name, Value]));
}

/** IAM statements of every policy in the template: inline role policies and AWS::IAM::Policy. */
export function policyStatements(template: Template): Array<{ owner: string; statement: Record<string, any> }> {
  const standalone = resources(template, 'AWS::IAM::Policy').flatMap(([id, { Properties }]) =>
    (Properties.PolicyDocument.Statement as Array<Record<string, any>>).map((statement) => ({ owner: id, statement })),
  );
  const inline = resources(template, 'AWS::IAM::Role').flatMap(([id, { Properties }]) =>
    ((Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<Record<string, any>> } }>).flatMap(
      ({ PolicyDocument }) => PolicyDocument.Statement.map((statement) => ({ owner: id, statement })),
    ),
  );
  return [...standalone, ...inline];
}

export const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The one resource of `type`; fails when there is none or more than one. */
export function only(template: Template, type: string): Resource {
  const found = resources(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]![1];
}
