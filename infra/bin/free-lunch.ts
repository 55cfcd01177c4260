import { App } from 'aws-cdk-lib';
import { addFreeLunch } from '../lib/free-lunch-app.js';

// Context (cdk.json, or -c key=value) picks the account, image tag, capacity and the rest: see
// lib/settings.ts and docs/deploy-aws.md.
const app = new App();
addFreeLunch(app);
app.synth();
