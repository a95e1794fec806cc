import { STACK_OUTPUTS } from '../../scripts/cli/stack';
import { STACK_NAME } from '../../shared/resources';
import { buildStack } from './build-stack';

describe('what the CLI reads from the deployed stack', () => {
  it('finds every output it looks up by name, on the stack it looks for by default', () => {
    const { stack, template } = buildStack();

    expect(stack.stackName).toBe(STACK_NAME);
    const outputs = template.findOutputs('*');
    for (const name of Object.values(STACK_OUTPUTS)) expect(outputs[name]).toBeDefined();
  });
});
