import { ZFlowContent, type TFlowContent } from '@doorstep/schema';

/** What a new flow's draft starts from: valid, so it can be previewed and published at once. */
export function starterContent(flowName: string): TFlowContent {
  return ZFlowContent.parse({
    welcome: { title: `Welcome to ${flowName}`, body: 'Let us get you set up in a few quick steps.' },
    steps: [{ id: 'get-started', kind: 'info', title: 'Get started', body: 'Describe the first thing a new user should do.' }],
    activation: { event: 'activated' },
  });
}
