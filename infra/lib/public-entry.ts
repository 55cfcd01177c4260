import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { AppService } from './app-service.js';
import { acknowledge } from './nag.js';

/**
 * What the load balancer adds to every HTTPS answer, its own fixed responses (the /metrics 404)
 * included: the services already send the same value (@fastify/helmet's default), so a browser sees
 * one policy whichever of the two answered.
 */
export const HSTS_HEADER_VALUE = 'max-age=31536000; includeSubDomains';

export interface PublicEntryProps {
  vpc: ec2.IVpc;
  /** Without one (only with allowPlainHttp, for a demo) the load balancer serves plain HTTP. */
  certificateArn?: string;
  orders: AppService;
  kitchen: AppService;
  inventory: AppService;
}

/**
 * The one thing on the internet: an Application Load Balancer in the public subnets. Everything
 * goes to orders-app (API, dashboard, the /ws WebSocket, which ALBs pass through as is) except the
 * read-only endpoints the dashboard takes from the other two: kitchen's GET /recipes and
 * inventory's GET /stock, /stock/audit and /purchases. HTTPS with a certificate: port 80 only
 * redirects to 443, and every answer carries Strict-Transport-Security. Targets count as healthy when /ready answers (their Redis and PostgreSQL
 * are reachable); the container health check, which restarts tasks, uses /health.
 */
export class PublicEntry extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly url: string;
  /** Orders, Kitchen and Inventory targets, for the unhealthy-target alarms. */
  readonly targetGroups: elbv2.ApplicationTargetGroup[] = [];

  constructor(scope: Construct, id: string, props: PublicEntryProps) {
    super(scope, id);
    const { vpc, certificateArn } = props;

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      accessLogs,
      'AwsSolutions-S1',
      'This bucket is the access log: it receives the load balancer\'s access logs, and logging the ' +
        'bucket\'s own accesses would need another bucket with the same question.',
    );

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Free Lunch public load balancer',
      // Egress only to the target services' ports, added as targets register.
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(80),
      certificateArn ? 'HTTP from anywhere, redirected to HTTPS' : 'HTTP from anywhere',
    );
    if (certificateArn) securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from anywhere');
    acknowledge(
      securityGroup,
      'AwsSolutions-EC23',
      'The internet-facing load balancer is the system\'s one public entry point: HTTP/HTTPS from anywhere ' +
        'is its purpose. No other security group admits 0.0.0.0/0 (asserted in infra/test).',
    );

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
      // The default 60 s idle timeout holds a quiet dashboard socket: orders-app pings every 25 s.
    });
    this.loadBalancer.logAccessLogs(accessLogs, 'alb');

    const ordersTargets = this.targets('Orders', props.orders);
    let listener: elbv2.ApplicationListener;
    if (certificateArn) {
      listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [ordersTargets],
        open: false,
      });
      listener.setAttribute('routing.http.response.strict_transport_security.header_value', HSTS_HEADER_VALUE);
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
      this.url = `https://${this.loadBalancer.loadBalancerDnsName}`;
    } else {
      listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [ordersTargets],
        open: false,
      });
      this.url = `http://${this.loadBalancer.loadBalancerDnsName}`;
    }

    const reads = elbv2.ListenerCondition.httpRequestMethods(['GET', 'HEAD']);
    // Prometheus metrics are for the operators' scrapers inside the VPC, not for the internet.
    listener.addAction('HideMetrics', {
      priority: 5,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/metrics'])],
      action: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/json',
        messageBody: JSON.stringify({ error: 'not_found', message: 'Route GET /metrics not found' }),
      }),
    });
    listener.addTargetGroups('Recipes', {
      priority: 10,
      conditions: [reads, elbv2.ListenerCondition.pathPatterns(['/recipes'])],
      targetGroups: [this.targets('Kitchen', props.kitchen)],
    });
    listener.addTargetGroups('Stock', {
      priority: 20,
      conditions: [reads, elbv2.ListenerCondition.pathPatterns(['/stock', '/stock/audit', '/purchases'])],
      targetGroups: [this.targets('Inventory', props.inventory)],
    });
  }

  private targets(name: string, app: AppService): elbv2.ApplicationTargetGroup {
    const port = app.container.containerPort;
    const group = new elbv2.ApplicationTargetGroup(this, `${name}Targets`, {
      vpc: app.service.cluster.vpc,
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      healthCheck: {
        path: '/ready',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // In-flight requests finish well within this; a dashboard socket reconnects and resumes.
      deregistrationDelay: Duration.seconds(30),
    });
    (app.service as ecs.FargateService).attachToApplicationTargetGroup(group);
    this.targetGroups.push(group);
    return group;
  }
}
