import { Duration, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { healthCheckScript, type Deployable } from './catalog.js';
import { acknowledge } from './nag.js';
import type { Settings } from './settings.js';

/** Variables and Secrets Manager references of one container. */
export interface ContainerSettings {
  environment: Record<string, string>;
  secrets: Record<string, ecs.Secret>;
}

export interface AppServiceProps extends ContainerSettings {
  cluster: ecs.ICluster;
  deployable: Deployable;
  repository: ecr.IRepository;
  imageTag: string;
  capacity: Settings['capacity'];
  /** Fargate task size (vCPU units and MiB); on ECS Anywhere the container's limits. */
  cpu: number;
  memoryMiB: number;
  /** Unset: left to autoscaling (which starts at its minimum). */
  desiredCount?: number;
  /** Behind the load balancer: gives the service a health-check grace period. */
  loadBalanced?: boolean;
  /** Runs the backlog reporter (infra/runtime) next to the service, for scaling on its backlog. */
  backlogReporter?: ContainerSettings;
  /** A name in the cluster's private DNS namespace, e.g. `market`. */
  cloudMapName?: string;
}

/**
 * One Free Lunch service on ECS: its task definition (the image from ECR at the deployed tag,
 * secrets from Secrets Manager, logs in CloudWatch, read-only root file system, the image's health
 * check) and its service, on Fargate in the private subnets with a security group of its own, or
 * on ECS Anywhere machines (EXTERNAL launch type).
 */
export class AppService extends Construct {
  readonly service: ecs.FargateService | ecs.ExternalService;
  readonly taskDefinition: ecs.TaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;
  /** The service's security group (Fargate only: ECS Anywhere tasks run on your network). */
  readonly securityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: AppServiceProps) {
    super(scope, id);
    const { deployable, capacity } = props;
    const onFargate = capacity === 'fargate';

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    this.taskDefinition = onFargate
      ? new ecs.FargateTaskDefinition(this, 'Task', {
          cpu: props.cpu,
          memoryLimitMiB: props.memoryMiB,
          runtimePlatform: {
            cpuArchitecture: ecs.CpuArchitecture.X86_64,
            operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
          },
        })
      : new ecs.ExternalTaskDefinition(this, 'Task', { networkMode: ecs.NetworkMode.BRIDGE });
    // The root file system is read-only; tsx keeps its compile cache in /tmp.
    this.taskDefinition.addVolume({ name: 'tmp' });
    const image = ecs.ContainerImage.fromEcrRepository(props.repository, props.imageTag);

    this.container = this.taskDefinition.addContainer('app', {
      containerName: deployable.name,
      image,
      essential: true,
      environment: props.environment,
      secrets: props.secrets,
      portMappings: [
        {
          name: 'http',
          containerPort: deployable.port,
          // Bridge networking on ECS Anywhere: the machine's port, so one task per service per machine.
          hostPort: onFargate ? undefined : deployable.port,
          protocol: ecs.Protocol.TCP,
        },
      ],
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'app',
        // A log burst must not stall request handling; the buffer absorbs it.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      healthCheck: {
        command: ['CMD', 'node', '-e', healthCheckScript(deployable.portVariable)],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      readonlyRootFilesystem: true,
      memoryLimitMiB: onFargate ? undefined : props.memoryMiB,
      cpu: onFargate ? undefined : props.cpu,
      // runServer closes gracefully within 10 s: stop consumers, finish the batch, flush the outbox.
      stopTimeout: Duration.seconds(30),
    });
    this.container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });

    if (props.backlogReporter) {
      const reporter = this.taskDefinition.addContainer('backlog-reporter', {
        containerName: 'backlog-reporter',
        image,
        // Scaling stalls without it, the service does not: it never takes the task down.
        essential: false,
        command: ['node', '--import', 'tsx', 'ops/report-backlog.ts'],
        environment: props.backlogReporter.environment,
        secrets: props.backlogReporter.secrets,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'backlog' }),
        readonlyRootFilesystem: true,
        memoryLimitMiB: 128,
        stopTimeout: Duration.seconds(5),
      });
      reporter.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
    }

    acknowledge(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      'Only non-secret settings (ports, hosts, key prefix, log level, market URL) are plain variables; ' +
        'the database password, Redis auth token and manager token come from Secrets Manager as `secrets`.',
    );
    const executionRole = this.taskDefinition.obtainExecutionRole();
    acknowledge(
      executionRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken, needed to pull from ECR, has no resource-level permissions; the image ' +
        'pull itself is limited to this service\'s repository.',
    );

    const deployment = {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount,
      // A version that cannot become healthy is rolled back, not left half-deployed.
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    };
    if (onFargate) {
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.cluster.vpc,
        description: `Free Lunch ${deployable.name} tasks`,
        // Out to the market, ECR, Secrets Manager and CloudWatch (through NAT), and to the stores.
        allowAllOutbound: true,
      });
      this.service = new ecs.FargateService(this, 'Service', {
        ...deployment,
        taskDefinition: this.taskDefinition,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        assignPublicIp: false,
        securityGroups: [this.securityGroup],
        platformVersion: ecs.FargatePlatformVersion.LATEST,
        healthCheckGracePeriod: props.loadBalanced ? Duration.seconds(90) : undefined,
        cloudMapOptions: props.cloudMapName
          ? { name: props.cloudMapName, dnsRecordType: servicediscovery.DnsRecordType.A, dnsTtl: Duration.seconds(10) }
          : undefined,
      });
    } else {
      this.service = new ecs.ExternalService(this, 'Service', {
        ...deployment,
        taskDefinition: this.taskDefinition,
      });
    }
  }
}
