import { App, Stack } from 'aws-cdk-lib';

// Placeholder until the stack lands (issue 4): keeps `cdk synth` wired into `npm test`.
const app = new App();
new Stack(app, 'OrderWebhooks');
app.synth();
