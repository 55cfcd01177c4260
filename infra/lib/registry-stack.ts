import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';
import { deployables } from './catalog.js';

/**
 * One ECR repository per image. A stack of its own because images are pushed before the
 * services that run them are deployed: the deploy workflow deploys this stack, pushes the images
 * tagged with the commit sha, then deploys {@link FreeLunchStack} with that tag.
 */
export class RegistryStack extends Stack {
  readonly repositories: Record<string, ecr.Repository> = {};

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    for (const { name, repository } of deployables) {
      this.repositories[name] = new ecr.Repository(this, `${name}-repository`, {
        repositoryName: repository,
        imageScanOnPush: true,
        // A tag is a commit: it never moves, so what runs is always what was built from it.
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        encryption: ecr.RepositoryEncryption.AES_256,
        // Images are what a rollback deploys: keep them when the stack goes.
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [
          { description: 'untagged layers of interrupted pushes', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7) },
          { description: 'the last 100 builds are enough to roll back to', tagStatus: ecr.TagStatus.ANY, maxImageCount: 100 },
        ],
      });
    }
  }
}
